"""Country pages for the person asking for help (public, no account): what the law says
where they are or may go, from the country facts coordinators keep, in their language."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from .models import CountryFacts
from .visa import country_names


@require_http_methods(["GET"])
def countries(request: HttpRequest) -> HttpResponse:
    names = dict(country_names(get_language() or "en"))
    listed = sorted(
        (
            (names.get(code, code), code.lower())
            for code in CountryFacts.objects.values_list("country", flat=True)
        ),
    )
    return render(request, "planning/guidance_list.html", {"countries": listed})


@require_http_methods(["GET"])
def country(request: HttpRequest, code: str) -> HttpResponse:
    facts = CountryFacts.objects.filter(country=code.upper()).first() if len(code) == 2 else None
    if facts is None:
        raise Http404
    name = dict(country_names(get_language() or "en")).get(facts.country, facts.country)
    return render(request, "planning/guidance_country.html", {"facts": facts, "name": name})
