from tests.support.worker import celery_worker, celery_worker_process, isolated_broker, worker_factory  # noqa: F401
