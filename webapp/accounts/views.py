from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator

from webapp.accounts.forms import ThrottledAuthenticationForm, with_lockout_status


@method_decorator(login_not_required, name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    """Django's login view with a form that refuses further tries after too many failures (see throttle.py)."""

    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm

    def post(self, request, *args, **kwargs):
        return with_lockout_status(super().post(request, *args, **kwargs))
