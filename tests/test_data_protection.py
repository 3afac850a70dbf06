"""No INSZ or IBAN in clear where they do not belong: DLQ reasons (the ``gp-reason`` header), validation errors,
log records (message and traceback) and masked output."""
from __future__ import annotations

import datetime as dt
import io
import logging
import re

import orjson
import pytest

from streams.events import InvalidEvent, decode_event
from streams.identifiers import install_log_redaction, make_iban_be, make_insz, mask, redact, redact_text

INSZ = make_insz(dt.date(1985, 7, 30), 123)
CHILD = make_insz(dt.date(2019, 3, 4), 45)
IBAN = make_iban_be(539007547)
BAD_INSZ = INSZ[:-2] + f"{(int(INSZ[-2:]) + 1) % 100:02d}"  # wrong mod-97 check
BAD_IBAN = IBAN[:2] + f"{(int(IBAN[2:4]) + 1) % 100:02d}" + IBAN[4:]  # wrong check digits


def envelope(type_: str, subject, data: dict) -> dict:
    return {"event_id": "e-1", "type": type_, "schema_version": 1, "subject": subject, "occurred_on": "2024-01-02",
            "recorded_at": "2024-01-03T00:00:00Z", "data": data}


def registered(subject=INSZ, parents=(INSZ,)) -> dict:
    return envelope("person.registered", subject, {"birth_date": "2019-03-04", "household_id": "H-1",
                                                   "role": "child", "parents": list(parents), "region": "flanders"})


CASES = {
    "subject with a wrong check": (registered(subject=BAD_INSZ), BAD_INSZ),
    "subject too short": (registered(subject=INSZ[:10]), INSZ[:10]),
    "subject with a letter": (registered(subject=INSZ[:5] + "X" + INSZ[6:]), INSZ[:5] + "X" + INSZ[6:]),
    "subject as a number": (registered(subject=int(BAD_INSZ)), BAD_INSZ),
    "parent with a wrong check": (registered(parents=(INSZ, BAD_INSZ)), BAD_INSZ),
    "parent as a number": (registered(parents=(int(INSZ),)), INSZ),
    "receiver with a wrong check": (envelope("receiver.designated", "H-1",
                                             {"receiver": BAD_INSZ, "from_month": "2024-01"}), BAD_INSZ),
    "IBAN with wrong check digits": (envelope("bank_account.registered", INSZ, {"iban": BAD_IBAN}), BAD_IBAN),
    "IBAN with a wrong length": (envelope("bank_account.registered", INSZ, {"iban": IBAN + "7"}), IBAN + "7"),
    "IBAN as a number": (envelope("bank_account.registered", INSZ, {"iban": int(IBAN[4:])}), IBAN[4:]),
    "valid IBAN, subject wrong": (envelope("bank_account.registered", BAD_INSZ, {"iban": IBAN}), BAD_INSZ),
    "valid INSZ, invalid date": ({**registered(), "occurred_on": "2024-02-30"}, INSZ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dlq_reason_never_quotes_the_identifier(name):
    document, secret = CASES[name]
    with pytest.raises(InvalidEvent) as error:
        decode_event(orjson.dumps(document))
    exc = error.value
    for text in (exc.reason, exc.reason_class, str(exc), repr(exc)):
        assert secret not in text and INSZ not in text and IBAN not in text, (name, text)
    assert exc.reason  # a reason is still given (field path and rule)
    if "subject" in name or "parent" in name or "receiver" in name or name.startswith("IBAN with"):
        assert exc.reason_class in ("invalid_identifier", "schema"), exc.reason_class


def test_reasons_of_a_simulated_population_with_many_faults_quote_no_identifier():
    """Every kind of broken record the simulator makes: the reason names no value of the record."""
    from sim.population import SimulationConfig
    from sim.timeline import generate_timeline_lines

    config = SimulationConfig(households=30, seed=11, start="2024-01", end="2024-06", invalid_rate=0.3)
    identifier = re.compile(rb'"(?:subject|receiver|iban)"\s*:\s*"([^"]{6,})"')
    checked = 0
    for line in generate_timeline_lines(config):
        try:
            decode_event(line)
            continue
        except InvalidEvent as exc:
            text = f"{exc.reason_class} {exc.reason}"
        values = {m.decode() for m in identifier.findall(line)}
        values |= {p.decode() for p in re.findall(rb'"(\d{8,})"', line)}
        leaked = [v for v in values if v in text]
        assert not leaked, (text, leaked)
        checked += 1
    assert checked > 50


def test_redact_masks_insz_and_iban_in_text_and_trees():
    text = f"child {INSZ} paid to {IBAN}; event 0c6f4d2e-1c2b-5a7e-9d3b-123456789012, ref p-a1234567890b"
    masked = redact_text(text)
    assert INSZ not in masked and IBAN not in masked and mask(INSZ) in masked and mask(IBAN) in masked
    assert "0c6f4d2e-1c2b-5a7e-9d3b-123456789012" in masked and "p-a1234567890b" in masked
    tree = redact({CHILD: [{"child": CHILD, "iban": IBAN, "cents": 12345678901}], "n": 3})
    assert tree == {mask(CHILD): [{"child": mask(CHILD), "iban": mask(IBAN), "cents": 12345678901}], "n": 3}


@pytest.fixture
def redacting_log():
    previous = logging.getLogRecordFactory()
    install_log_redaction()
    install_log_redaction()  # idempotent
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("gp-test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(previous)


def test_log_records_are_redacted_in_message_and_traceback(redacting_log):
    logger, stream = redacting_log
    logger.warning("person %s account %s", INSZ, IBAN)
    logger.warning("mapping %(who)s", {"who": CHILD})
    try:
        {}[CHILD]
    except KeyError:
        logger.exception("lookup failed for %s", CHILD)
    try:
        raise ValueError(f"bad account {IBAN} of {INSZ}")
    except ValueError:
        logger.error("validation", exc_info=True)
    output = stream.getvalue()
    for value in (INSZ, CHILD, IBAN):
        assert value not in output
    assert output.count(mask(CHILD)) >= 3 and "KeyError" in output and "ValueError" in output
    assert "Traceback" in output


def test_without_redaction_the_same_log_would_leak():
    """Guard for the test above: the plain logging setup does print the values."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("gp-test-plain")
    logger.addHandler(handler)
    logger.propagate = False
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        logger.warning("person %s", INSZ)
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
    assert INSZ in stream.getvalue()
