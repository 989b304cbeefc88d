"""The detector page: roles, training figures, and the evaluate job's numbers against `detection.evaluation.metrics`.

The page reads what the evaluate job wrote (metrics.json, curves.json): the tests run the job in-process
(`run_job` with `run_evaluation`), then check that the request loads no score array, that its queries are few
and bounded, and that its numbers are those of `detection.evaluation` on the same scores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image

from detection.evaluation import metrics
from detection.labels import frame_labels
from detection.score_store import load_video_scores
from detection.types import Interval
from tests.support.seed import make_mission, make_user, seed_scored_video
from webapp.catalog.labelling import add_interval
from webapp.catalog.models import Video
from webapp.detectors.models import Event
from webapp.jobs.models import Job
from workers.claim import run_job
from workers.evaluation import run_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {role: make_user(role, role) for role in ("viewer", "analyst", "admin")} | {"outsider": make_user("nobody", None)}


@pytest.fixture
def scored():
    """Three labelled videos scored by a CAE and a MIL detector, one unlabelled video that must not count."""
    mission = make_mission()
    videos = [
        seed_scored_video(mission, name="boat.mp4", anomalies=((10.0, 16.0, "boat"),), kinds=("cae", "mil"), seed=1),
        seed_scored_video(mission, name="person.mp4", anomalies=((30.0, 31.0, "person"),), kinds=("cae", "mil"), seed=2),
        seed_scored_video(mission, name="calm.mp4", anomalies=(), label=Video.Label.NORMAL, kinds=("cae", "mil"), seed=3),
        seed_scored_video(mission, name="unknown.mp4", anomalies=(), label=Video.Label.UNLABELLED, seed=4),
    ]
    cae = videos[0].runs["cae"].detector
    cae.training_curve = [{"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1)} for e in range(30)]
    cae.validation_metrics = {"f1": 0.8125, "precision": 0.9, "val_frames": 400}
    cae.save()
    return {"cae": cae, "mil": videos[0].runs["mil"].detector, "videos": videos}


def truth(scored, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Pooled frame labels and scores of the labelled videos, straight from disk and the seed's intervals."""
    labels, scores = [], []
    for seeded in scored["videos"][:3]:
        stored = load_video_scores(Path(settings.MEDIA_ROOT) / seeded.runs[kind].media_dir, with_heatmaps=False)
        labels.append(frame_labels(stored.times, [Interval(s, e, c) for s, e, c in seeded.anomalies]))
        scores.append(stored.frame_scores)
    return np.concatenate(labels), np.concatenate(scores).astype(np.float64)


def evaluate(detector) -> Job:
    job = Job.objects.create(kind=Job.Kind.EVALUATE, detector=detector)
    assert run_job(job.pk, run_evaluation, worker="test") == "succeeded", Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    return job


@pytest.fixture
def evaluated(scored):
    evaluate(scored["cae"])
    return scored


def detector_page(client, user, detector) -> str:
    client.force_login(user)
    response = client.get(reverse("detector", args=[detector.pk]))
    assert response.status_code == 200
    return response.content.decode()


def embedded(html: str, element_id: str):
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S).group(1))


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
def test_every_role_reads_the_detector_page(client, people, evaluated, role):
    html = detector_page(client, people[role], evaluated["cae"])
    assert 'id="threshold-slider"' in html and "Validation metrics" in html


def test_it_lists_the_videos_it_scored_with_links_to_review(client, people, scored):
    html = detector_page(client, people["viewer"], scored["cae"])
    for seeded in scored["videos"]:
        assert reverse("video_review", args=[seeded.video.pk]) in html


def test_it_rejects_users_without_a_role(client, people, scored):
    client.force_login(people["outsider"])
    assert client.get(reverse("detector", args=[scored["cae"].pk])).status_code == 403
    assert client.get(reverse("detector", args=[999999])).status_code == 403


def test_the_slider_numbers_agree_with_detection_metrics(client, people, evaluated):
    table = embedded(detector_page(client, people["viewer"], evaluated["cae"]), "slider-data")
    labels, scores = truth(evaluated, "cae")
    assert table["thresholds"][table["index"]] == pytest.approx(evaluated["cae"].threshold)
    assert len(table["thresholds"]) > 50
    for i, threshold in enumerate(table["thresholds"]):
        confusion = metrics.confusion_counts(labels, metrics.flag_frames(scores, threshold))
        assert {k: table[k][i] for k in ("tp", "fp", "tn", "fn")} == confusion, (i, threshold, scores.min())
        expected = metrics.classification_rates(confusion)
        for key in ("precision", "recall", "f1", "accuracy"):
            assert table[key][i] == pytest.approx(expected[key]) if expected[key] is not None else table[key][i] is None


def test_curves_and_confusion_agree_with_detection_metrics(client, people, evaluated):
    html = detector_page(client, people["viewer"], evaluated["cae"])
    labels, scores = truth(evaluated, "cae")
    roc = embedded(html, "fig-roc")
    go.Figure(roc)
    assert f"AUC {metrics.roc_auc(labels, scores):.3f}" in roc["data"][0]["name"]
    confusion = embedded(html, "fig-confusion")["data"][0]["z"]
    expected = metrics.confusion_counts(labels, metrics.flag_frames(scores, evaluated["cae"].threshold))
    assert confusion == [[expected["tp"], expected["fn"]], [expected["fp"], expected["tn"]]]
    pr = embedded(html, "fig-pr")
    assert f"AP {metrics.average_precision(labels, scores):.3f}" in pr["data"][0]["name"]
    points = metrics.pr_points(labels, scores)
    assert pr["data"][0]["x"] == pytest.approx(points["recall"]) and pr["data"][0]["y"] == pytest.approx(points["precision"])
    # The markers the slider moves open at the detector's threshold, on the same confusion.
    rates = metrics.classification_rates(expected)
    (roc_marker,) = [t for t in roc["data"] if t.get("meta", {}).get("role") == "threshold"]
    (pr_marker,) = [t for t in pr["data"] if t.get("meta", {}).get("role") == "threshold"]
    go.Figure(pr)
    assert roc_marker["x"] + roc_marker["y"] == pytest.approx([expected["fp"] / (expected["fp"] + expected["tn"]), rates["recall"]])
    assert pr_marker["x"] + pr_marker["y"] == pytest.approx([rates["recall"], rates["precision"]])


def test_one_set_of_aucs_on_an_evaluated_page(client, people, evaluated):
    """Training's validation AUCs and rates are not shown beside the evaluation's (one source of numbers)."""
    html = detector_page(client, people["viewer"], evaluated["cae"])
    validation = re.search(r'id="validation-metrics">(.*?)</table>', html, re.S).group(1)
    assert "val_frames" in validation and "0.8125" not in validation and "precision" not in validation
    html = detector_page(client, people["viewer"], evaluated["mil"])  # not evaluated: its own numbers are all there is
    assert "No evaluation on the area's labelled videos yet" in html and 'id="fig-roc"' not in html


def test_scores_per_class_follow_the_labels(client, people, evaluated):
    html = detector_page(client, people["viewer"], evaluated["cae"])
    boxes = {trace["name"]: trace["y"] for trace in embedded(html, "fig-classes")["data"]}
    assert set(boxes) == {"normal", "boat", "person"}
    calm = evaluated["videos"][2].runs["cae"]
    assert boxes["normal"] == [pytest.approx(calm.max_score)]


def test_cae_and_mil_side_by_side_on_the_same_videos(client, people, evaluated):
    html = detector_page(client, people["viewer"], evaluated["cae"])
    assert "Side by side with MIL v1 (mil) on 3 common videos" in html
    bars = embedded(html, "fig-compare-0")
    go.Figure(bars)
    labels, mil_scores = truth(evaluated, "mil")
    assert bars["data"][1]["y"][0] == pytest.approx(metrics.roc_auc(labels, mil_scores))


def test_the_page_renders_from_the_job_files_without_loading_scores(client, people, evaluated, monkeypatch,
                                                                    django_assert_max_num_queries):
    def refuse(*args, **kwargs):
        raise AssertionError("a score array was loaded in a request")

    import detection.score_store

    monkeypatch.setattr(detection.score_store, "load_video_scores", refuse)
    monkeypatch.setattr(np, "load", refuse)
    client.force_login(people["viewer"])
    url = reverse("detector", args=[evaluated["cae"].pk])
    client.get(url)  # the session and the user's groups, cached from here on
    with django_assert_max_num_queries(18):  # 16, and the lineage card: reviews since training, versions
        html = client.get(url).content.decode()
    assert 'id="fig-roc"' in html and 'id="slider-data"' in html and "out of date" not in html
    for number in range(5):  # more score runs of other videos make no more queries
        seed_scored_video(evaluated["videos"][0].video.mission, name=f"more{number}.mp4", anomalies=(),
                          label=Video.Label.UNLABELLED, seed=10 + number)
    with django_assert_max_num_queries(18):  # 16, and the lineage card: reviews since training, versions
        client.get(url)


def test_the_headline_numbers_are_detection_evaluation_on_the_same_scores(client, people, evaluated):
    html = detector_page(client, people["viewer"], evaluated["cae"])
    labels, scores = truth(evaluated, "cae")
    confusion = metrics.confusion_counts(labels, metrics.flag_frames(scores, evaluated["cae"].threshold))
    rates = metrics.classification_rates(confusion)

    def cell(element_id: str) -> str:
        return re.search(rf'id="{element_id}">(.*?)</td>', html, re.S).group(1)

    assert cell("eval-frame-auc") == f"{metrics.roc_auc(labels, scores):.4g}"
    assert cell("eval-ap") == f"{metrics.average_precision(labels, scores):.4g}"
    assert cell("eval-prf") == " / ".join(f"{rates[k]:.4g}" for k in ("precision", "recall", "f1"))
    assert cell("eval-videos").startswith("3 (1 normal, 2 anomalous)")


def test_before_any_evaluation_the_page_shows_no_numbers_even_with_scores(client, people, scored):
    html = detector_page(client, people["viewer"], scored["mil"])
    assert "No evaluation on the area's labelled videos yet" in html and 'id="fig-roc"' not in html and 'id="slider-data"' not in html


def test_a_label_change_marks_the_evaluation_stale(client, people, evaluated):
    add_interval(evaluated["videos"][0].video, 2.0, 3.0, "person", people["analyst"])
    html = detector_page(client, people["viewer"], evaluated["cae"])
    assert 'id="eval-stale"' in html and "labels or reviews of the area&#x27;s videos changed" in html
    evaluate(evaluated["cae"])
    assert 'id="eval-stale"' not in detector_page(client, people["viewer"], evaluated["cae"])


def test_a_review_or_a_new_score_run_marks_the_evaluation_stale(client, people, evaluated):
    event = Event.objects.filter(score_run__detector=evaluated["mil"]).first()
    Event.objects.filter(pk=event.pk).update(review=Event.Review.CONFIRMED)
    assert "labels or reviews" in detector_page(client, people["viewer"], evaluated["cae"])
    evaluate(evaluated["cae"])
    seed_scored_video(evaluated["videos"][0].video.mission, name="new.mp4", anomalies=(), label=Video.Label.NORMAL,
                      seed=20)
    assert "score runs changed (4 then, 5 now)" in detector_page(client, people["viewer"], evaluated["cae"])


def test_training_curve_and_reconstructions_that_exist(client, people, scored):
    cae = scored["cae"]
    folder = Path(settings.MEDIA_ROOT) / cae.media_dir
    folder.mkdir(parents=True, exist_ok=True)
    for epoch in (0, 5, 10, 20, 29):
        Image.fromarray(np.full((8, 8, 3), epoch, np.uint8)).save(folder / f"recon_{epoch}.png")
    html = detector_page(client, people["viewer"], cae)
    shown = [int(e) for e in re.findall(r"/recon/(\d+)\.png", html)]
    assert shown == [0, 10, 20, 29]
    curve = embedded(html, "fig-curve")
    assert [t["name"] for t in curve["data"]] == ["train", "validation"] and len(curve["data"][0]["x"]) == 30
    assert "0.8125" in html
    client.force_login(people["viewer"])
    image = client.get(reverse("detector_reconstruction", args=[cae.pk, 20]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert client.get(reverse("detector_reconstruction", args=[cae.pk, 7])).status_code == 404


def test_a_detector_without_labelled_scores_says_so(client, people):
    mission = make_mission()
    seeded = seed_scored_video(mission, anomalies=(), label=Video.Label.UNLABELLED)
    html = detector_page(client, people["viewer"], seeded.runs["cae"].detector)
    assert "No evaluation on the area's labelled videos yet" in html and "No reconstruction images" in html
    assert 'id="fig-roc"' not in html and 'id="threshold-slider"' not in html


def test_an_admin_switches_whether_a_detector_scores_new_videos(db):
    from django.test import Client

    from tests.support.seed import make_detector, make_mission, make_user
    from webapp.detectors.models import Detector

    admin, analyst = make_user("ada", "admin"), make_user("ann", "analyst")
    detector = make_detector(make_mission().area, "cae")
    client = Client()
    client.force_login(analyst)
    assert client.post(f"/detectors/{detector.pk}/active", {"active": "0"}).status_code == 403
    client.force_login(admin)
    assert client.post(f"/detectors/{detector.pk}/active", {"active": "0"}).status_code == 302
    assert Detector.objects.get(pk=detector.pk).is_active is False
    page = client.get(f"/detectors/{detector.pk}/").content.decode()
    assert "Use for new videos" in page
    client.post(f"/detectors/{detector.pk}/active", {"active": "1"})
    assert Detector.objects.get(pk=detector.pk).is_active is True


def test_the_detector_page_lists_its_jobs(db):
    from django.test import Client

    from tests.support.seed import make_detector, make_mission, make_user
    from webapp.jobs.models import Job

    detector = make_detector(make_mission().area, "cae")
    job = Job.objects.create(kind=Job.Kind.TRAIN, detector=detector, state=Job.State.FAILED, error="out of memory")
    client = Client()
    client.force_login(make_user("vic", "viewer"))
    page = client.get(f"/detectors/{detector.pk}/").content.decode()
    assert f'data-job-id="{job.pk}"' in page and "out of memory" in page


def test_a_change_detector_lists_the_dismissed_intervals_its_index_took(client, people):
    from tests.support.seed import make_detector

    mission = make_mission()
    video = Video.objects.create(mission=mission, original_name="tuesday.mp4", file="videos/1/o.mp4",
                                 status=Video.Status.READY)
    added = [{"video": str(video.pk), "intervals": [{"start": 12.0, "end": 15.5, "frames": 8}]},
             {"video": "gone-elsewhere", "intervals": [{"start": 3.0, "end": 4.0, "frames": 1}]}]
    detector = make_detector(mission.area, "change", threshold=3.0, validation_metrics={"dismissed_frames": 9,
                                                                                       "dismissed_intervals": added})
    html = detector_page(client, people["viewer"], detector)
    listed = re.search(r'id="lineage-dismissed">(.*?)</p>', html, re.S).group(1)
    assert f'href="{video.get_absolute_url()}">tuesday.mp4</a> 12.0–15.5 s (8 frames)' in listed
    assert "gone-elsewhere 3.0–4.0 s (1 frame)" in listed
    table = re.search(r'id="validation-metrics">(.*?)</table>', html, re.S).group(1)
    assert "dismissed_frames" in table and "dismissed_intervals" not in table


def test_a_change_detector_says_how_many_looks_of_dismissed_changes_it_learned(client, people):
    from tests.support.seed import make_detector

    mission = make_mission()
    learned = make_detector(mission.area, "change", threshold=3.0, validation_metrics={
        "dismissed_frames": 9, "dismissed_looks": 740, "confirmed_looks": 1, "looks_radius": 3.77})
    looks = re.search(r'id="lineage-looks">(.*?)</p>', detector_page(client, people["viewer"], learned), re.S).group(1)
    assert "740 dismissed looks, against 1 look of confirmed anomalies" in looks
    plain = make_detector(mission.area, "change", threshold=3.0, validation_metrics={"dismissed_frames": 9})
    assert 'id="lineage-looks"' not in detector_page(client, people["viewer"], plain)
