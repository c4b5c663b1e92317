from django.urls import path

from . import committee_views, payment_views, receipt_views, report_views, request_views, views

app_name = "funding"

urlpatterns = [
    path("funds/", views.funds, name="funds"),
    path("funds/<uuid:pk>/", views.fund, name="fund"),
    path("funds/<uuid:pk>/deposits/", views.fund_deposit, name="fund_deposit"),
    path("funds/<uuid:pk>/overdraft/", views.fund_overdraft, name="fund_overdraft"),
    path("funds/<uuid:pk>/budgets/", views.fund_envelope, name="fund_envelope"),
    path("rates/", views.rates, name="rates"),
    path("rubric/", views.criteria, name="criteria"),
    path("cases/<uuid:pk>/", request_views.case_requests, name="case_requests"),
    path("requests/<uuid:pk>/", request_views.request_detail, name="request"),
    path("requests/<uuid:pk>/items/", request_views.request_items, name="request_items"),
    path("requests/<uuid:pk>/summary/", request_views.request_summary, name="request_summary"),
    path("requests/<uuid:pk>/submit/", request_views.request_submit, name="request_submit"),
    path("requests/<uuid:pk>/withdraw/", request_views.request_withdraw, name="request_withdraw"),
    path("costs/<uuid:pk>/actual/", request_views.line_actual, name="line_actual"),
    path("payments/<uuid:pk>/received/", request_views.payment_received, name="payment_received"),
    path("meetings/", committee_views.meetings, name="meetings"),
    path("meetings/<uuid:pk>/", committee_views.meeting, name="meeting"),
    path("meetings/<uuid:pk>/agenda/", committee_views.meeting_agenda, name="meeting_agenda"),
    path("meetings/<uuid:pk>/status/", committee_views.meeting_status, name="meeting_status"),
    path("items/<uuid:pk>/conflict/", committee_views.item_conflict, name="item_conflict"),
    path("items/<uuid:pk>/scores/", committee_views.item_score, name="item_score"),
    path("items/<uuid:pk>/vote/", committee_views.item_vote, name="item_vote"),
    path("items/<uuid:pk>/decision/", committee_views.item_decide, name="item_decide"),
    path("items/<uuid:pk>/reconsider/", committee_views.item_reconsider, name="item_reconsider"),
    path("payments/", payment_views.payment_list, name="payments"),
    path(
        "payments/<uuid:pk>/authorize/", payment_views.payment_authorize, name="payment_authorize"
    ),
    path("payments/<uuid:pk>/release/", payment_views.payment_release, name="payment_release"),
    path("payments/<uuid:pk>/cancel/", payment_views.payment_cancel, name="payment_cancel"),
    path("payments/<uuid:pk>/reissue/", payment_views.payment_reissue, name="payment_reissue"),
    path("payments/<uuid:pk>/", receipt_views.payment_detail, name="payment"),
    path("payments/<uuid:pk>/receipts/", receipt_views.receipt_add, name="payment_receipts"),
    path("receipts/<uuid:pk>/", receipt_views.receipt_download, name="receipt"),
    path("receipts/<uuid:pk>/remove/", receipt_views.receipt_remove, name="receipt_remove"),
    path("commitments/<uuid:pk>/give-back/", payment_views.commitment_give_back, name="give_back"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/csv/", report_views.report_csv, name="report_csv"),
]
