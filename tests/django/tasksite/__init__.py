"""A Django site whose lazycron job enqueues a task on a database task backend
(django-tasks-db) in PostgreSQL: tests/django/test_tasks_postgresql.py serves it with
gunicorn and runs its tasks with a real ``db_worker``."""
