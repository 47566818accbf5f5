#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for maaltal's delivery tests (aiosmtpd).

Every accepted message is stored in DIR as <n>.json: the envelope (mail_from,
rcpt_tos), the subject decoded by Python's email package, the attachment's file name,
and the attachment bytes beside it as <n>.pdf, plus the raw message as <n>.eml.
Faults on request: --fail-550 ADDR (a permanent refusal of that recipient),
--fail-451 N (the first N recipients get a temporary 451), --fail-421 N (the first N
transactions get 421 to MAIL FROM and the connection is closed, as a busy server does), --delay S (each RCPT
waits S seconds, so a client can be killed mid-run), --drop-data N (the first N
messages: the connection is closed after the data, before any reply), --stall-data N
(the first N messages: no reply at all, ever). A dropped or stalled message is not
stored. Prints "ready" when listening.
"""

import argparse
import asyncio
import email
import email.header
import email.policy
import json
import os
import signal
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, args):
        self.args = args
        self.tempfails = args.fail_451
        self.busy = args.fail_421
        self.refuse = {a.lower() for a in args.fail_550}
        self.drops = args.drop_data
        self.stalls = args.stall_data
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.busy > 0:
            self.busy -= 1
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return "421 4.3.2 service not available, closing transmission channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.delay:
            await asyncio.sleep(self.args.delay)
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if self.tempfails > 0:
            self.tempfails -= 1
            return "451 4.3.0 temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drops > 0:
            self.drops -= 1
            server.transport.close()
            return "421 4.4.2 connection dropped"  # never reaches the client
        if self.stalls > 0:
            self.stalls -= 1
            await asyncio.sleep(3600)
            return "451 4.4.2 too late"
        self.count += 1
        stem = "%d-%06d" % (time.time_ns(), self.count)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        attachment_name, attachment = None, b""
        for part in msg.iter_attachments():
            attachment_name = part.get_filename()
            attachment = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "to": str(msg["to"]),
            "reply_to": str(msg["reply-to"]),
            "message_id": str(msg["message-id"]),
            "attachment": attachment_name,
            "body": msg.get_body(preferencelist=("plain",)).get_content(),
        }
        d = self.args.dir
        with open(os.path.join(d, stem + ".pdf"), "wb") as f:
            f.write(attachment)
        with open(os.path.join(d, stem + ".eml"), "wb") as f:
            f.write(raw)
        tmp = os.path.join(d, "." + stem + ".json")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(d, stem + ".json"))
        return "250 2.0.0 Ok: queued as %s" % stem


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--fail-550", action="append", default=[])
    p.add_argument("--fail-451", type=int, default=0)
    p.add_argument("--fail-421", type=int, default=0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--drop-data", type=int, default=0)
    p.add_argument("--stall-data", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
