"""Staff search: the header's search box of every staff page and its results page."""

from app.web.search import routes  # noqa: F401  (views register on bp)
from app.web.search.blueprint import bp

__all__ = ["bp"]
