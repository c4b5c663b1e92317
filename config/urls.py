from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/language/", set_language, name="set_language"),
    path("staff/", include("waystation.accounts.urls")),
    path("staff/audit/", include("waystation.audit.urls")),
    path("staff/cases/", include("waystation.cases.urls")),
    path("staff/verification/", include("waystation.verification.urls")),
    path("staff/planning/", include("waystation.planning.urls")),
    path("staff/funding/", include("waystation.funding.urls")),
    path("staff/partners/", include("waystation.partners.registry_urls")),
    path("staff/", include("waystation.partners.attestation_urls")),
    path("partners/", include("waystation.partners.urls")),
    path("staff/", include("waystation.vault.urls")),
    path("", include("waystation.pages.urls")),
    path("", include("waystation.intake.urls")),
    path("", include("waystation.planning.public_urls")),
]

handler400 = "waystation.pages.views.bad_request"
handler403 = "waystation.pages.views.permission_denied"
handler404 = "waystation.pages.views.page_not_found"
handler500 = "waystation.pages.views.server_error"
