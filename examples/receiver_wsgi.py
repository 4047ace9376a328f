"""The 2.1 receipt endpoint under a production WSGI server.

    CBEC_CONFIG=/etc/cbec/cbec.toml gunicorn --workers 4 --bind 0.0.0.0:8080 'receiver_wsgi:app'
    CBEC_CONFIG=/etc/cbec/cbec.toml waitress-serve --port 8080 receiver_wsgi:app

Each push is decrypted, its data_digest verified with the platform's key, parsed, and applied to the ledger
of the config (SQLite on one machine, PostgreSQL for several); the platform gets the success ack only once
the receipt is stored. Run `cbec-declare worker --config …` (its own endpoint can stay internal) to send.
"""

from __future__ import annotations

import os

from cbec_declare import load_config, make_wsgi_app


def build_app(config_path: str):  # type: ignore[no-untyped-def]
    config = load_config(config_path)
    pipeline = config.pipeline()
    _, _, path = config.receiver_address()
    return make_wsgi_app(config.receiver(pipeline), path=path)


app = build_app(os.environ["CBEC_CONFIG"]) if "CBEC_CONFIG" in os.environ else None
