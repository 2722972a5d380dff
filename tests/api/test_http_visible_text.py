"""A required text must say something a person can read (issue 10, finding 7).

A reason made of zero-width, format, control or space characters reads as
nothing on every screen: it is refused as empty, like an empty string, wherever
the network asks for a written text (notes, reasons, justifications).
"""

from __future__ import annotations

import pytest
from http_stories import police_referral

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"

INVISIBLE = [
    "\u200b",  # zero width space
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width (non-)joiners, word joiner, BOM
    " \u00a0\u2003\u3000\t",  # spaces of every width
    "\u2028\u2029",  # line and paragraph separators
    "\u202e\u2066\u2069\u061c",  # bidirectional controls
    "\u00ad\u180e",  # soft hyphen, Mongolian vowel separator
    "\u3164\u115f\uffa0\u2800",  # Hangul fillers, blank Braille pattern
    "\u034f\ufe0f",  # combining grapheme joiner, variation selector: marks on nothing
    "\x00\x1f\x7f",  # C0 controls and DEL
    "\U000e0041\U000e007f",  # tag characters
]
VISIBLE = ["ok\u200b", "\u200bsi", "violenza", "عنف", "暴力", "🆘", "٣"]


@pytest.fixture
def case_ref(any_backend_api):
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "the facts"})
    api.post(
        "anna",
        f"{CASES}/{ref}/consents",
        json={
            "recipient_kinds": ["police"],
            "purposes": ["protection_measures"],
            "categories": ["violence"],
        },
    )
    return ref


@pytest.fixture
def referral_id(any_backend_api, case_ref):
    api = any_backend_api
    sent = api.post(
        "anna", f"{CASES}/{case_ref}/referrals", json=police_referral("he threatened her")
    )
    assert sent.status_code == 201, sent.text
    rid = sent.json()["id"]
    api.post("paolo", f"{REFERRALS}/{rid}/acknowledge")
    return rid


def test_invisible_texts_are_empty_everywhere_a_text_is_required(
    any_backend_api, case_ref, referral_id, problem
):
    api = any_backend_api
    writes = {
        "note": lambda t: api.post(
            "anna", f"{CASES}/{case_ref}/notes", json={"category": "violence", "text": t}
        ),
        "referral": lambda t: api.post(
            "anna", f"{CASES}/{case_ref}/referrals", json=police_referral(t)
        ),
        "decline": lambda t: api.post(
            "paolo", f"{REFERRALS}/{referral_id}/decline", json={"reason": t}
        ),
        "hold": lambda t: api.post("chiara", f"{CASES}/{case_ref}/legal-hold", json={"reason": t}),
        "erasure": lambda t: api.post("chiara", f"{CASES}/{case_ref}/erasure", json={"reason": t}),
        "disclosure": lambda t: api.post(
            "ugo", f"/api/v1/audit/cases/{case_ref}/disclosure", json={"reason": t}
        ),
    }
    for what, write in writes.items():
        for text in INVISIBLE:
            response = write(text)
            assert response.status_code == 400, (what, repr(text), response.text)
            problem(response, 400, "empty-text")
    case = api.get("anna", f"{CASES}/{case_ref}").json()
    assert [e["text"] for e in case["entries"]] == ["the facts"]
    assert case["status"] == "open" and not case["legal_hold"]
    assert len(case["referrals"]) == 1
    assert api.get("paolo", f"{REFERRALS}/{referral_id}").json()["status"] == "acknowledged"


def test_an_invisible_justification_justifies_nothing(any_backend_api, case_ref, problem):
    api = any_backend_api
    instrument = api.rete.ctx.instruments
    instrument_id, risk = next(iter(instrument.items()))
    response = api.post(
        "anna",
        f"{CASES}/{case_ref}/risk-assessments",
        json={
            "instrument_id": instrument_id,
            "answers": {item.id: False for item in risk.items},
            "judgement": "high",
            "justification": "\u200b\u2003",
        },
    )
    problem(response, 422, "justification-required")


def test_visible_text_in_any_script_is_accepted(any_backend_api, case_ref):
    api = any_backend_api
    for text in VISIBLE:
        response = api.post(
            "anna", f"{CASES}/{case_ref}/notes", json={"category": "violence", "text": text}
        )
        assert response.status_code == 201, (repr(text), response.text)
