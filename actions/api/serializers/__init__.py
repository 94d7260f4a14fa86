"""Input serializers check the shape of requests; output serializers render rows. The rules live
in actions.services, which the views call with the validated data. One module per resource:
providers (and groups), catalog (actions and their steps), runs."""
