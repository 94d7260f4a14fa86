"""The alerts API's serializers: `output` renders rows, `inputs` checks the shape of requests."""
