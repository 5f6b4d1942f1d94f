"""The demo data set's plan: the stories of its providers and bureaus, as dated steps that the
real commands carry out (``app.demo.load`` runs them).

``steps``: the kinds of step and the plan's shared facts (the agency, when history starts, the
enterprise numbers); ``registrations``: one registration unit's story, from its application to
its decisions and follow-ups; ``projects``: the subsidy projects and ratings filed with a
provider's unit; ``build``: every step of the demo in order, with its moment.

May import: ``app.domain``, ``app.demo.data`` and ``app.events``' plain types (``Actor``);
nothing that does I/O.
"""
