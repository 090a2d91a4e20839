"""The campaign: planning and sending (imports the layers below).

Planning: plan (plan_campaign) → plan_options, planning (one template), rows, row_checks, repeats,
batches, suppression, caps (opt-outs and frequency caps from the history), variants (A/B tests),
plan_model (Plan, Preview).

Sending: send (send_campaign, read_journal) → options, engine (the run as named phases), attempt
(one request), workers (the threads), balance, registry (the send registry), reservations (the
home decides who may be texted before each request), results.

Also: account (balance, recharge, bound numbers), replies (fetch, receive, opt-outs).
"""
