"""The pure domain: events, commands, deciders, policies. No I/O, no wall clock.

One module or package per part of the process: ``decider/`` (the registration unit's commands,
split into application, audit, follow_up, decision, deadlines), ``events/`` (by kind of
stream), ``registration`` (its state), ``bureaus``, ``ratings``, ``profiles``, ``projects``,
``attest``, the rules' tables (``norm``, ``policies``, ``identifiers``, ``regions``).

May import: nothing of ``app`` outside ``app.domain`` (everything else imports it).
"""
