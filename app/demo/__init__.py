"""The demo data set, loaded through the service: ``kmop demo``.

Six years of history up to now, written the way it would have happened: the agency appoints
the brochure's eight audit bureaus, some forty providers keep a public profile and apply, the
bureaus plan and report, the agency records declarations and decisions, the agency's systems
record subsidy projects filed with the providers (which the providers confirm or dispute and
the agency approves, stops or reclaims), clients rate the projects they bought, and the
deadline job runs every week. Every step is an ordinary command of ``RegistrationService``
(nothing is written to a table directly), run with a clock set to the step's moment, so events
carry realistic times and the rules judge each step on its own day. The clock only moves
forward and never past the real now; the last step is the deadline job at now.

Six years, not fewer: a registration runs five, and the demo shows one that expired.

Loading is idempotent: when the demo's applications are there already, nothing is written.

``data``: the bureaus and providers, as data; ``plan``: their stories as dated steps; ``load``:
runs the plan through the service and summarizes it.

May import: ``app.domain``, ``app.events``, ``app.services`` (the demo sits on top, beside the
CLI that runs it); nothing imports the demo but the CLI and the tests.
"""
