"""`flask stats rebuild`: replay the whole history into the dashboard's aggregate tables, and count
the tickets into `ticket_count` again."""

import time

import click

from app.extensions import db
from app.stats.counts import rebuild_counts
from app.stats.rebuild import rebuild


@click.group("stats")
def stats_command():
    """The dashboard's pre-aggregated figures."""


@stats_command.command("rebuild")
def rebuild_command():
    """Empty the aggregates and replay every history row into them, in one transaction.

    For after history rows were written without the engine (a bulk import) or a calendar changed;
    run it while no commands run (the worker stopped), since it replaces the figures wholesale.
    """
    started = time.perf_counter()
    replayed = rebuild(db.session)
    counted = rebuild_counts(db.session)  # ticket_count: counted from the tickets themselves
    db.session.commit()
    click.echo(
        f"replayed {replayed} history rows, counted the tickets into {counted} ticket_count rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
