"""deploy/smtp/smtp.sh: Mailpit from its cached build, with a login, keeping one message per Message-ID."""

from __future__ import annotations

import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from tests.harness import ROOT, free_port

SMTP = ROOT / "deploy" / "smtp" / "smtp.sh"


@pytest.fixture
def server(tmp_path):
    """A server of its own, in a folder of its own (the binary is the cached build)."""
    folder = tmp_path / "smtp"
    smtp_port, http_port = free_port(), free_port()
    started = subprocess.run([SMTP, "start", str(smtp_port), str(http_port), folder], capture_output=True,
                             text=True, timeout=600, check=True)
    secrets = dict(line.split("=", 1) for line in (folder / "secrets.env").read_text().splitlines())
    yield {"folder": folder, "smtp": smtp_port, "http": f"http://127.0.0.1:{http_port}", "secrets": secrets,
           "printed": started.stdout.strip(), "args": [str(smtp_port), str(http_port), folder]}
    subprocess.run([SMTP, "stop", folder], capture_output=True, timeout=60)


def message(message_id: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = "a@cqp.localhost", to, "essai", message_id
    mail.set_content("bonjour")
    return mail


def test_a_second_start_reuses_the_running_server_and_its_login_file_is_private(server):
    pid = (server["folder"] / "smtp.pid").read_text().strip()
    assert server["printed"] == server["http"]
    again = subprocess.run([SMTP, "start", *server["args"]], capture_output=True, text=True, timeout=60, check=True)
    assert "building" not in again.stderr and (server["folder"] / "smtp.pid").read_text().strip() == pid
    assert server["secrets"]["CQP_SMTP_USER"] == "cqp" and len(server["secrets"]["CQP_SMTP_PASSWORD"]) >= 24
    for name in ("secrets.env", "smtp-auth"):
        assert (server["folder"] / name).stat().st_mode & 0o077 == 0, name
    assert server["secrets"]["CQP_SMTP_PASSWORD"] not in Path(f"/proc/{pid}/cmdline").read_text()
    subprocess.run([SMTP, "stop", server["folder"]], check=True, capture_output=True, timeout=60)
    assert not Path(f"/proc/{pid}").exists() and not (server["folder"] / "smtp.pid").exists()


async def test_the_server_takes_mail_only_with_its_login(server):
    to = f"{uuid.uuid4().hex[:12]}@example.org"
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(message(f"<{uuid.uuid4()}@cqp.localhost>", to), hostname="127.0.0.1",
                              port=server["smtp"])
    assert refused.value.code == 530
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(message(f"<{uuid.uuid4()}@cqp.localhost>", to), hostname="127.0.0.1",
                              port=server["smtp"], username="cqp", password="not-the-password")
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server['http']}/api/v1/messages")).json()["total"] == 0


async def test_the_server_keeps_one_message_per_message_id(server):
    login = {"hostname": "127.0.0.1", "port": server["smtp"], "username": "cqp",
             "password": server["secrets"]["CQP_SMTP_PASSWORD"]}
    to = f"{uuid.uuid4().hex[:12]}@example.org"
    same = f"<{uuid.uuid4()}@cqp.localhost>"
    for _ in range(2):
        await aiosmtplib.send(message(same, to), **login)
    await aiosmtplib.send(message(f"<{uuid.uuid4()}@cqp.localhost>", to), **login)
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{server['http']}/api/v1/messages")).json()
    assert sorted(m["MessageID"] for m in listed["messages"]).count(same.strip("<>")) == 1
    assert listed["total"] == 2
