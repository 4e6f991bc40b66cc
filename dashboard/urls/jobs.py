"""Staff dashboard URLs: bulk jobs (included by dashboard/urls/__init__.py, namespace "dashboard")."""

from django.urls import URLPattern, path

from dashboard.views import jobs

urlpatterns: list[URLPattern] = [
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/export/", jobs.job_export, name="job-export"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<int:job_id>/progress/", jobs.job_progress, name="job-progress"),
    path("jobs/<int:job_id>/download/", jobs.job_download, name="job-download"),
]
