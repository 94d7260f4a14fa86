"""For the benches: the PostgreSQL database a bench's DATABASE_URL names, created when missing."""

from urllib.parse import urlsplit


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named by `url` when it does not exist yet."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
