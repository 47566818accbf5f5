#!/usr/bin/env python3
"""An S3-compatible server on 127.0.0.1 for maaltal's object-storage tests: moto's
server (PyPI), which answers conditional writes (If-Match, If-None-Match) as S3 does.

Creates BUCKET, prints "ready <port>" when listening, and serves until killed.
--put-delay S makes each PUT wait S seconds first, as a slow link does, so a test can
kill a writer in the middle of publishing.
"""

import argparse
import logging
import threading
import time

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--put-delay", type=float, default=0.0)
    args = ap.parse_args()

    app = DomainDispatcherApplication(create_backend_app)

    def slow(environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT" and args.put_delay > 0:
            time.sleep(args.put_delay)
        return app(environ, start_response)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", args.port, slow, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=args.bucket)
    print(f"ready {port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
