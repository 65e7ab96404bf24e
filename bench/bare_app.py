"""The reference of bench_inbox: a bare Flask app returning a constant, served like ``wsgi:app``."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def constant():
    return jsonify({"ok": True})
