"""Tamper-evident history: the Merkle ledger beside the event log (SECURITY.md, docs/AUDIT.md).

The cryptographic core is pure functions over bytes, with no database, files or clock:

    merkle   RFC 6962 hashing, the leaf encoding of a record, proofs from stored nodes
    proofs   RFC 9162 verification of inclusion and consistency proofs
    compact  the frontier of the tree, appended one leaf at a time in O(log n) memory
    note     Ed25519 signed notes (C2SP, Go sumdb/note) and tlog checkpoints

Around it, what does I/O: ``store`` and ``db`` keep the leaves, nodes and checkpoints
in the events' database; ``follower`` ledgers new records; ``checkpoints``,
``signing`` and ``periodic`` sign them with a key kept outside the database;
``serving`` opens the ledger for the API; ``verify``, ``export`` and
``export_reader`` are the auditor's tools.
"""
