"""Persistent profiles: a login kept between captures, and a clear message when one is busy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capture_pages.fixtures import session, site  # noqa: F401 (fixtures)
from evidencekit._internal.browser import ProfileInUse
from evidencekit._internal.capture import CaptureOptions, capture_page, open_for_login
from evidencekit.i18n import t


def text_of(capture: Any) -> str:
    return capture.file("visible_text").path.read_text(encoding="utf-8")


def test_profile_keeps_a_login_between_captures(session: Any, site: str, tmp_path: Path) -> None:
    profile = tmp_path / "profiles" / "work-chat"
    with_profile = CaptureOptions(profile_dir=profile)
    capture_page(f"{site}/login", workdir=tmp_path / "1", options=with_profile, session=session)
    second = capture_page(f"{site}/whoami", workdir=tmp_path / "2", options=with_profile,
                          session=session)
    assert "status: logged in" in text_of(second)
    assert len(second.files) == 6  # a profile capture holds everything a plain one does
    assert second.metadata["options"]["profile"] == "work-chat"  # the name, never the path
    assert str(tmp_path) not in repr(second.metadata)
    for f in second.files:  # the session cookie the browser sent stays out of the evidence
        assert b"s3cret-token" not in f.path.read_bytes(), f.name

    fresh = capture_page(f"{site}/whoami", workdir=tmp_path / "3", session=session)
    assert "status: anonymous" in text_of(fresh)


def test_profile_open_elsewhere_gives_a_clear_message(session: Any, site: str,
                                                      tmp_path: Path) -> None:
    profile = tmp_path / "busy"
    with session.context(profile_dir=profile):
        with pytest.raises(ProfileInUse) as caught:
            capture_page(f"{site}/whoami", workdir=tmp_path / "w", session=session,
                         options=CaptureOptions(profile_dir=profile))
    assert '"busy"' in caught.value.message("en") and "«busy»" in caught.value.message("nb")


def test_login_window_keeps_the_login_for_later_captures(session: Any, site: str,
                                                         tmp_path: Path) -> None:
    profile = tmp_path / "webmail"
    said: list[str] = []

    def worker_logs_in_and_closes(context: Any) -> None:
        page = context.pages[0]
        assert "welcome" in page.inner_text("body")  # the login page was opened for them
        page.close()

    open_for_login(profile, f"{site}/login", session=session, say=said.append,
                   on_ready=worker_logs_in_and_closes)
    assert said == [t("capture.login_open", profile="webmail"),
                    t("capture.login_done", profile="webmail")]
    later = capture_page(f"{site}/whoami", workdir=tmp_path / "c", session=session,
                         options=CaptureOptions(profile_dir=profile))
    assert "status: logged in" in text_of(later)
