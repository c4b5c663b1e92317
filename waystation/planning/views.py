import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from waystation.accounts.access import coordinator_required, staff_user

from . import services
from .forms import CountryFactsForm
from .models import CountryFacts
from .visa import country_names


@coordinator_required
@require_http_methods(["GET", "POST"])
def country_facts(request: HttpRequest, pk: uuid.UUID | None = None) -> HttpResponse:
    """Coordinators keep what the planner knows of each country; `pk` edits one."""
    editing = get_object_or_404(CountryFacts, pk=pk) if pk else None
    form = CountryFactsForm(request.POST if request.method == "POST" else None, instance=editing)
    if request.method == "POST" and form.is_valid():
        services.save_country_facts(form.save(commit=False), by=staff_user(request))
        messages.success(request, _("Country facts saved."))
        return redirect("planning:countries")
    names = dict(country_names(get_language() or "en"))
    rows = [
        (facts, names.get(facts.country, facts.country)) for facts in CountryFacts.objects.all()
    ]
    return render(
        request,
        "planning/country_facts_list.html",
        {"form": form, "editing": editing, "rows": sorted(rows, key=lambda row: row[1])},
        status=400 if form.errors else 200,
    )
