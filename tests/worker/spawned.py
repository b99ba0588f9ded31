"""Worker processes for the many-workers test: started with multiprocessing's 'spawn' context.

Each builds its own app on the shared database URL, so nothing is inherited from the test
process but the arguments: the same as two `flask worker` processes on one database.
"""

import os


def work_until_idle(url: str, now: str, ready, results) -> None:
    """Wait for the other workers at `ready`, then run work_once() until nothing is claimable.

    Puts (pid, timers and jobs handled, rounds) on `results`; an error is put there as text.
    """
    import time_machine

    try:
        with time_machine.travel(now, tick=False):  # every worker sees the same instant
            from app import create_app
            from app.extensions import db
            from app.worker import work_once

            app = create_app({"SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                ready.wait(timeout=120)
                handled = rounds = 0
                while (count := work_once()) > 0:
                    handled += count
                    rounds += 1
                db.session.remove()
                db.engine.dispose()
        results.put((os.getpid(), handled, rounds))
    except BaseException as exc:  # reported to the test, which fails with it
        results.put((os.getpid(), f"{type(exc).__name__}: {exc}", 0))
        raise
