"""What an audit asks a host for: everything the selected playbooks need, in one request.

The playbooks' fix tables and symptoms (the pure heart, `remediate.rules`) become one
`CollectRequest` (the probe's format, `remediate.probes.collect`), merged without duplicates,
so a host is visited once however many playbooks run. Event selections are named with
`event_query_id`, the name under which `evaluate` finds their matches in the evidence.

One of three "collect" pieces: this module decides *what to ask*; `remediate.probes.collect`
is the script and its parser; `remediate.audit.host` runs it on one host over a transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from remediate.catalog.components import component_names
from remediate.probes.collect import CollectRequest, ComponentQuery, EventQuery, FileQuery
from remediate.rules.evaluate import event_query_id
from remediate.rules.playbook import ComponentSelection, EventSelection, Playbook, ServiceSelection

SAMPLES = 20
SAMPLES_FILTERED = 200  # selections that filter on message, codes or data need more to look at


def collect_request(playbooks: Iterable[Playbook], since: datetime) -> CollectRequest:
    """Everything the playbooks need from a host, merged and without duplicates."""
    services: dict[str, None] = {}
    components: dict[str, ComponentQuery] = {}
    files: dict[str, FileQuery] = {}
    events: list[EventQuery] = []

    def state(selection: ServiceSelection | ComponentSelection) -> None:
        if isinstance(selection, ServiceSelection):
            services[selection.service] = None
        else:
            names = component_names(selection.component)
            components[selection.component] = ComponentQuery(
                selection.component, names.oc_manager, names.feature_id
            )

    for playbook in playbooks:
        for requirement in playbook.fix.requires:
            state(requirement)
        for row in playbook.fix.files:
            root, path = row.location()
            files.setdefault(row.key, FileQuery(row.key, root, path))  # type: ignore[arg-type]
        if playbook.symptoms is None:
            continue
        # The collector tests this cheaply on the host (the major.minor of store.exe's version)
        # and skips the filter outside it: one round trip, and no event query on a host the
        # playbook cannot concern. Service packs and builds stay for evaluate to decide.
        versions = tuple(sorted({p.version for p in playbook.applies_to.products}))
        for name, selection in playbook.symptoms.selections.items():
            if not isinstance(selection, EventSelection):
                state(selection)
                continue
            filtered = selection.message or selection.codes or selection.data_contains
            events.append(
                EventQuery(
                    id=event_query_id(playbook, name),
                    log=selection.log,
                    sources=tuple(selection.source),
                    event_ids=tuple(selection.event_ids),
                    since=since,
                    max_samples=SAMPLES_FILTERED if filtered or selection.count else SAMPLES,
                    exchange=versions,
                )
            )
    return CollectRequest(
        services=tuple(services),
        components=tuple(components.values()),
        files=tuple(files.values()),
        events=tuple(events),
    )
