"""Test helpers: a tiny local HTTP server, a fake Dataverse API and workflow-copy utilities.

Everything here runs on 127.0.0.1 inside the test process; no test touches the real network.
"""
