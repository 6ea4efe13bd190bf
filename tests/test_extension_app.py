"""The worker's case page in a real Chromium, with the unpacked extension and the real host.

Through the page alone: unlock, create a case, add a picture, write a diary entry with witnesses,
import the WhatsApp export from the corpus and a generated one whose dates need her answer, the
Slack export of two channels (she chooses one), see
the items and the timeline in order, open a transcript, make the PDF, add a recipient, seal to
it (the bundle verifies as that recipient), send the stamps to a loopback calendar; afterwards
``evidencekit check`` holds. Each view is photographed in English and in bokmål into
``tests/artifacts/`` for a person to look at.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import CORPUS, PASSPHRASE, run_cli
from extension_support import extension_browser
from host_support import AMBIGUOUS_CHAT
from locker_files import make_locker, open_locker
from servers.chain import SyntheticChain
from servers.ots_calendar import LoopbackCalendar
from evidencekit._internal.native_host import install

ARTIFACTS = Path(__file__).parent / "artifacts"
WHATSAPP = CORPUS / "exports" / "whatsapp" / "WhatsApp Chat with Dmitry S EN+Media Android.txt"
SLACK = CORPUS / "exports" / "slack" / "testarchive.zip"
VIEWS = ("items", "timeline", "diary", "add", "import", "capture", "report", "handover", "stamps", "key", "cases")
CASE_PAGE = f"chrome-extension://{install.EXTENSION_ID}/case.html"
POPUP = f"chrome-extension://{install.EXTENSION_ID}/popup.html"
OLD_LOCKER = Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A locker with an identity only, a recipient's own locker, and a loopback calendar."""
    if not WHATSAPP.is_file() or not SLACK.is_file():
        pytest.skip("shared test corpus not found (exports/whatsapp, exports/slack); it lives beside the repository")
    root = tmp_path_factory.mktemp("app")
    calendar = LoopbackCalendar(SyntheticChain())
    env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
           "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": calendar.url, "EVIDENCEKIT_MIN_CALENDARS": "1",
           "EVIDENCEKIT_TSA_URLS": "", "XDG_DOWNLOAD_DIR": str(root / "Downloads")}
    make_locker(root / "locker").close()
    union = {**env, "EVIDENCEKIT_HOME": str(root / "union"), "EVIDENCEKIT_PASSPHRASE": "union rep passphrase 42"}
    assert run_cli("init", "--kdf", "interactive", env=union).code == 0
    (root / "picked").mkdir()
    picture = root / "picked" / "skjermbilde-mobil.png"
    Image.new("RGB", (1080, 1920), (40, 90, 160)).save(picture)
    chat = root / "picked" / "WhatsApp Chat with Kari.txt"
    chat.write_text(AMBIGUOUS_CHAT)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield {"root": root, "env": env, "union": union, "calendar": calendar, "picture": picture, "chat": chat}
    finally:
        calendar.close()


def nb_catalog(domain: str, key: str) -> str:
    from evidencekit.i18n import t

    return t(f"{domain}.{key}", "nb")


def open_case_page(context: Any) -> Any:
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(CASE_PAGE)
    return page


def open_popup(context: Any, ready: str) -> Any:
    """The popup at its real size, once ``ready`` (a selector) shows it has asked the host."""
    popup = context.new_page()
    popup.set_viewport_size({"width": 360, "height": 640})
    popup.goto(POPUP)
    popup.wait_for_selector(ready)
    return popup


def said(page: Any, kind: str = "ok") -> str:
    """The page's one-line answer once it is of this kind (ok, error, question)."""
    page.wait_for_selector(f"#message.{kind}", timeout=60_000)
    return page.inner_text("#message")


def go(page: Any, view: str) -> None:
    page.click(f"#nav button[data-view={view}]")
    page.wait_for_selector(f"body[data-shown={view}]", timeout=30_000)


def shoot(page: Any, lang: str, view: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"extension-app-{lang}-{view}.png"), full_page=True)


def fill_facts(page: Any, form: str, **facts: str) -> None:
    for name, value in facts.items():
        page.fill(f"{form} [name={name}]", value)


def test_the_worker_does_her_whole_case_in_the_page(world: dict[str, Any]) -> None:
    env, root = world["env"], world["root"]
    downloads = root / "Downloads"
    with extension_browser(root / "en", env) as (context, _):
        page = open_case_page(context)
        page.wait_for_selector("#view-unlock:not([hidden])")
        assert page.is_hidden("#nav") and page.is_hidden("#casePick")  # locked: no case titles, no views
        assert page.eval_on_selector_all("#case option", "nodes => nodes.length") == 0
        assert "encrypted on this computer" in page.inner_text("#view-unlock")
        shoot(page, "en", "unlock")
        page.fill("#passphrase", "not the passphrase")
        page.click("#unlockForm button[type=submit]")
        assert "passphrase is wrong" in said(page, "error")
        page.fill("#passphrase", PASSPHRASE)
        page.click("#unlockForm button[type=submit]")
        page.wait_for_selector("body[data-shown=cases]")

        page.fill("#caseTitle", "Harassment at work")
        page.click("#caseForm button[type=submit]")
        assert "Harassment at work" in said(page)

        go(page, "add")
        page.set_input_files("#addFiles", str(world["picture"]))
        fill_facts(page, "#addForm", incidentDate="2026-03-01T09:15", channel="Messenger", person="Per")
        page.select_option("#addForm [name=who]", "colleague")
        page.click("#addForm button[type=submit]")
        assert "Added as E-001" in said(page)

        go(page, "diary")
        page.fill("#diaryText", "He shouted at me in the break room in front of customers.")
        fill_facts(page, "#diaryForm", incidentDate="2026-03-02T14:30", where="the break room",
                   witnesses="Kari, Ali", reaction="I told him to stop", consequences="sick leave")
        page.click("#diaryForm button[type=submit]")
        assert "Saved as E-002" in said(page)

        go(page, "import")
        page.set_input_files("#importFile", str(WHATSAPP))
        page.click("#importForm button[type=submit]")
        assert "Imported as E-003: whatsapp, 60 messages" in said(page)
        page.set_input_files("#importFile", str(world["chat"]))
        page.click("#importForm button[type=submit]")
        said(page, "question")
        assert "03/04/2024" in page.inner_text("#dateOrderQuestion")
        shoot(page, "en", "import-question")
        page.check("#dateOrderChoices input[value=dmy]")
        page.click("#dateOrderForm button[type=submit]")
        assert "Imported as E-004: whatsapp, 3 messages" in said(page)

        go(page, "items")
        rows = page.eval_on_selector_all("#itemRows tr", "rows => rows.map(r => r.dataset.item)")
        assert rows == ["E-001", "E-002", "E-003", "E-004"]
        page.wait_for_selector("tr[data-item=E-001] td.thumb img")  # the picture's preview
        assert "Kari" in page.inner_text("tr[data-item=E-004] td.what")
        shoot(page, "en", "items")

        go(page, "timeline")
        moments = page.eval_on_selector_all(".moment .label", "nodes => nodes.map(n => n.textContent)")
        assert moments[-2:] == ["E-001", "E-002"]  # 1 and 2 March 2026, after the 2022 and 2024 chats
        assert moments.index("E-004") > max(i for i, m in enumerate(moments) if m == "E-003")
        assert "witnesses: Kari, Ali" in page.inner_text("#timelineList")
        shoot(page, "en", "timeline")

        go(page, "items")
        page.click("tr[data-item=E-004]")
        page.wait_for_selector("body[data-shown=item]")
        assert page.eval_on_selector_all("#itemTranscript .msg-text", "n => n.map(x => x.textContent)") == [
            "Du er ubrukelig", "Ingen vil ha deg her", "Slutt med dette"]
        assert "evidencekit-transcript.json" in page.inner_text("#itemFiles")
        shoot(page, "en", "item")

        go(page, "import")  # an export of two channels: she chooses one
        page.set_input_files("#importFile", str(SLACK))
        page.click("#importForm button[type=submit]")
        said(page, "question")
        assert page.is_checked("#conversationAll") and page.is_disabled("#conversationChoices input >> nth=0")
        assert "traveling-sailor: 56 messages" in page.inner_text("#conversationChoices")
        page.uncheck("#conversationAll")
        page.uncheck("#conversationChoices input[value=enrique]")
        shoot(page, "en", "import-conversations")
        page.click("#conversationForm button[type=submit]")
        assert "Imported as E-005: slack, 56 messages" in said(page)
        go(page, "items")
        assert "traveling-sailor: 56 messages" in page.inner_text("tr[data-item=E-005] td.what")

        go(page, "report")
        page.check("input[name=reportLang][value=en]")
        page.click("#reportForm button[type=submit]")
        assert "Saved as" in said(page)
        reports = list(downloads.glob("report-*.pdf"))
        assert len(reports) == 1 and reports[0].read_bytes().startswith(b"%PDF")

        go(page, "handover")
        line = next(x for x in run_cli("keys", "show", env=world["union"]).out.splitlines() if "Public key" in x)
        union_fingerprint = run_cli("keys", "show", "--json", env=world["union"]).json()["fingerprint"]
        page.fill("#recipientName", "Union")
        page.fill("#recipientKey", line)
        page.click("#recipientForm button[type=submit]")
        assert union_fingerprint in said(page)
        assert "Not encrypted" in page.inner_text("#sealTo")
        page.check("#recipientList input[value=Union]")
        assert page.inner_text("#sealTo") == f"Encrypted to: Union ({union_fingerprint})"
        shoot(page, "en", "handover")
        page.click("#sealButton")
        assert "encrypted to Union" in said(page)
        bundles = list(downloads.glob("*.evidencekit"))
        assert len(bundles) == 1
        verified = run_cli("verify", bundles[0], "--json", env=world["union"])
        assert verified.code == 0 and verified.json()["verdict"] != "invalid", verified.out

        go(page, "stamps")
        page.click("#stampButton")
        said(page)
        assert world["calendar"].submissions >= 1
        shoot(page, "en", "stamps")
        for view in ("diary", "add", "capture", "report", "key", "cases"):
            go(page, view)
            shoot(page, "en", view)
        assert len(page.inner_text("#fingerprint").split()) == 6

        page.click("#lock")
        page.wait_for_selector("#view-unlock:not([hidden])")
        assert page.evaluate("chrome.storage.session.get('passphrase')") == {}
        assert page.is_hidden("#casePick") and page.eval_on_selector_all("#case option", "nodes => nodes.length") == 0
        page.reload()  # a locked locker stays locked on a fresh page: the host closed it
        page.wait_for_selector("#view-unlock:not([hidden])")
    check = run_cli("check", "--json", env=env)
    assert check.code == 0, check.out
    with pytest.MonkeyPatch.context() as patch:
        for name in ("EVIDENCEKIT_OTS_CALENDARS", "EVIDENCEKIT_TSA_URLS"):  # the servers she uses
            patch.setenv(name, env[name])
        with open_locker(Path(env["EVIDENCEKIT_HOME"])) as locker:
            stamps = locker.stamps()
    assert stamps and all(s.status != "queued" for s in stamps)


def test_every_view_in_bokmal(world: dict[str, Any]) -> None:
    """The same case in a browser that speaks Norwegian (after the walkthrough made the case)."""
    assert run_cli("mark", "E-001", "--sensitive", env=world["env"]).code == 0
    with extension_browser(world["root"] / "nb", {**world["env"], "LANGUAGE": "nb"}, args=["--lang=nb"]) as (context, _):
        page = open_case_page(context)
        page.wait_for_selector("#view-unlock:not([hidden])")
        assert page.inner_text("#unlockForm button") == "Lås opp"
        shoot(page, "nb", "unlock")
        popup = open_popup(context, "#unlock:not([hidden])")
        assert popup.inner_text("#status") == "Bevisskapet er låst: skriv passordfrasen din for å se sakene dine."
        popup.screenshot(path=str(ARTIFACTS / "extension-popup-nb-locked.png"), full_page=True)
        popup.close()
        page.fill("#passphrase", PASSPHRASE)
        page.click("#unlockForm button[type=submit]")
        page.wait_for_selector("body[data-shown=items]")
        assert page.inner_text("#nav button[data-view=timeline]") == "Tidslinje"
        assert page.get_attribute("tr[data-item=E-001]", "class") == "sensitive"  # blurred until clicked
        page.click("tr[data-item=E-001]")
        assert page.get_attribute("tr[data-item=E-001]", "class") == "" and page.is_visible("#view-items")
        for view in VIEWS:
            go(page, view)
            if view == "items":
                page.wait_for_selector("tr[data-item=E-001] td.thumb img")  # blurred, as the row is
            shoot(page, "nb", view)
        go(page, "timeline")
        assert "18. mars 2022" in page.inner_text("#timelineList")  # dates as a Norwegian writes them
        go(page, "handover")
        page.fill("#recipientName", "Noen")
        page.fill("#recipientKey", "Offentlig nøkkel: ikke-en-nøkkel")
        page.click("#recipientForm button[type=submit]")
        assert nb_catalog("keys", "bad_public_key") == said(page, "error")  # the host answers in bokmål too
        assert page.locator("#sealItems .blurred").count() == 1  # E-001, as in the list
        page.click("#sealItems .blurred")
        assert page.locator("#sealItems .blurred").count() == 0 and page.is_checked("#sealItems input[value=E-001]")
        go(page, "items")
        page.click("tr[data-item=E-003]")
        page.wait_for_selector("body[data-shown=item]")
        shoot(page, "nb", "item")
        with Image.open(io.BytesIO(page.screenshot())) as shot:
            assert shot.width == 1280


def test_first_run_an_old_locker_and_a_locked_one_each_say_what_to_do(tmp_path: Path) -> None:
    """No locker yet, then one made by an earlier version, then that one upgraded: the page and the
    popup each say what to do in one sentence, and after ``evidencekit upgrade`` the page asks for
    the passphrase and opens the old cases. The same host answers throughout."""
    home = tmp_path / "locker"
    env = {**os.environ, "EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en",
           "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    ARTIFACTS.mkdir(exist_ok=True)
    with extension_browser(tmp_path, env) as (context, _):
        page = open_case_page(context)
        assert said(page, "error") == "evidencekit is not set up on this computer yet. Run “evidencekit init” once, then reload this page."
        assert page.is_hidden("#nav") and page.is_hidden("#view-unlock") and page.is_hidden("#casePick")
        shoot(page, "en", "first-run")
        popup = open_popup(context, "#status:not(:empty)")
        assert popup.inner_text("#status") == "evidencekit has no key yet. In a terminal, run: evidencekit init"
        assert popup.is_disabled("button[data-mode=visible]") and popup.is_hidden("#unlock") and popup.is_hidden("#casePick")

        with tarfile.open(OLD_LOCKER) as archive:
            archive.extractall(tmp_path / "old", filter="data")
        shutil.move(tmp_path / "old" / "locker", home)
        page.reload()
        assert "made by an earlier version of evidencekit" in said(page, "error")
        assert "evidencekit upgrade" in page.inner_text("#message") and page.is_hidden("#view-unlock")
        shoot(page, "en", "upgrade")
        popup.reload()
        popup.wait_for_selector("#status:not(:empty)")
        assert popup.inner_text("#status").endswith("run: evidencekit upgrade")
        popup.screenshot(path=str(ARTIFACTS / "extension-popup-en-upgrade.png"), full_page=True)

        assert run_cli("upgrade", env=env).code == 0
        page.reload()
        page.wait_for_selector("#view-unlock:not([hidden])")
        page.fill("#passphrase", PASSPHRASE)
        page.click("#unlockForm button[type=submit]")
        page.wait_for_selector("body[data-shown=items]")
        titles = page.eval_on_selector_all("#case option", "nodes => nodes.map(n => n.textContent)")
        assert "Harassment by Ola Nordmann at Kiosken" in titles
        popup.reload()
        popup.wait_for_selector("#case option", state="attached")  # this browser session's passphrase
        assert popup.is_hidden("#unlock") and popup.is_visible("#lock")


def test_app_opens_the_case_page_or_says_how(tmp_path: Path) -> None:
    shown = run_cli("app", "--no-open", "--json")
    assert shown.code == 0 and shown.json() == {"url": CASE_PAGE, "opened": False, "browser": None}
    no_screen = run_cli("app", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert no_screen.code == 0 and CASE_PAGE in no_screen.out and "Open my case" in no_screen.out
    # The program evidencekit would start gets the page's address, and the command does not wait for it.
    started = tmp_path / "started"
    program = tmp_path / "browser"
    program.write_text(f'#!/bin/sh\necho "$@" > {started}\n')
    program.chmod(0o755)
    opened = run_cli("app", "--json", env={"DISPLAY": ":0", "EVIDENCEKIT_BROWSER": str(program)})
    assert opened.code == 0 and opened.json()["opened"] is True
    deadline = time.monotonic() + 10
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.read_text().strip() == CASE_PAGE
