from django.urls import path

from webapp.maps import views

urlpatterns = [
    path("missions/<id:pk>/map/", views.mission_map, name="mission_map"),
    path("areas/<id:pk>/map/", views.area_map, name="area_map"),
    path("areas/<id:pk>/map/masks", views.area_map_mask, name="area_map_mask"),
    path("areas/<id:pk>/mosaic/", views.area_mosaic_build, name="area_mosaic_build"),
    path("areas/<id:pk>/mosaics/<id:job>/tiles/<id:level>/<id:x>/<id:y>.jpg", views.mosaic_tile, name="mosaic_tile"),
    path("areas/<id:pk>/mosaics/<id:job>/level-<id:level>.jpg", views.mosaic_level, name="mosaic_level"),
]
