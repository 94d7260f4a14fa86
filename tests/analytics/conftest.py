from tests.postmortems.conftest import smtp_server

__all__ = ["smtp_server"]
