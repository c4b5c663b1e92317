from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from waystation.accounts.access import coordinator_required
from waystation.accounts.models import User

from .access import filtered_entries
from .forms import AuditFilterForm

PAGE_SIZE = 50


@coordinator_required
@require_http_methods(["GET"])
def entries(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    queryset = filtered_entries(filters)
    before = request.GET.get("before", "")
    if before.isdigit():
        queryset = queryset.filter(position__lt=int(before))
    page = list(queryset[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    actors = User.objects.in_bulk({e.actor_id for e in page if e.actor_id})
    query = request.GET.copy()
    if has_more:
        query["before"] = str(page[-1].position)
    return render(
        request,
        "audit/entry_list.html",
        {
            "form": form,
            "rows": [(entry, actors.get(entry.actor_id)) for entry in page],
            "next_query": query.urlencode() if has_more else "",
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )
