import pytest
from waystation.intake.tests import test_browser as tb
from waystation.intake.tests.test_browser import *  # noqa
from waystation.intake.tests import axe

pytestmark = [pytest.mark.django_db(transaction=True)]

@pytest.mark.parametrize("language", ["en", "ar"])
def test_probe(browser, site_url, sent, language):
    src = axe.source()
    _request, code = sent
    page, _ = tb._new_page(browser, locale=language, bypass_csp=True)
    def run(name):
        page.add_script_tag(content=src)
        r = page.evaluate("() => axe.run(document, {resultTypes: ['violations','incomplete']})")
        print("\n##", language, name, r["testEngine"])
        for v in r["violations"]:
            print("  V", v["id"], v["impact"], [n["target"] for n in v["nodes"]][:6])
        for v in r["incomplete"]:
            print("  ?", v["id"], v["impact"], [n["target"] for n in v["nodes"]][:6])
    for path in ("/", "/ask/", "/follow-up/", "/safety/"):
        page.goto(site_url + path); run(path)
    page.goto(site_url + "/ask/")
    page.get_by_role("button", name=tb._in(language, "Send my request")).click(); run("ask errors")
    tb._open_follow_up(page, site_url, language, code); run("followup in")
