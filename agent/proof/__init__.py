"""Evidence a third party can check without trusting the user.

``note`` (the C2SP signed-note format: Ed25519 signatures and witness
cosignatures), ``checkpoint`` (the signed statement "this agent's chain had N
rows ending in hash H at time T"), ``keys`` (the agent's key file and its
epochs), ``clock`` (the kernel's NTP state and wall-clock steps), ``tsa``
(RFC 3161 time-stamp requests and their verification), ``service`` (the
daemon part that signs, stamps and records the clock off the probe path),
``dbverify`` (checkpoints and tokens against the database), ``bundle`` and
``offline`` (the proof files of a report bundle, and their check with no
database and no config), ``statement`` (what a report says about all this).
"""
