import os

from django.core.wsgi import get_wsgi_application

from config.runtime import startup_objects_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
startup_objects_freeze()
