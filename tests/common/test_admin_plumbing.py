"""common.admin.services: how a service's refusal becomes the errors of the forms shown again."""

import pytest
from django.core.exceptions import ValidationError

from common.admin.services import ServiceRefusedError, ServiceRowsSaveMixin, error_dict, refusals
from common.exceptions import ApplicationError

FIELD_ERRORS = ValidationError({"due_date": ["Too late."], "__all__": ["Not now."]})


def refused(exc: Exception, *args, **kwargs) -> dict:
    with pytest.raises(ServiceRefusedError) as caught, refusals(*args, **kwargs):
        raise exc
    return caught.value.errors


def test_error_dict_keeps_fields_and_puts_the_rest_on_top():
    assert error_dict(FIELD_ERRORS) == {"due_date": ["Too late."], None: ["Not now."]}
    assert error_dict(ValidationError(["One.", "Two."])) == {None: ["One.", "Two."]}


def test_field_errors_go_to_the_form_field_of_the_same_or_the_renamed_name():
    assert refused(FIELD_ERRORS) == {"due_date": ["Too late."], None: ["Not now."]}
    assert refused(FIELD_ERRORS, {"due_date": "due"}) == {"due": ["Too late."], None: ["Not now."]}


def test_an_inline_row_gets_every_message_on_top_after_its_name():
    assert refused(FIELD_ERRORS, prefix="Status update") == {
        None: ["Status update: Too late.", "Status update: Not now."]
    }
    assert refused(FIELD_ERRORS, prefix="Action item 2", name_fields=True) == {
        None: ["Action item 2: due date: Too late.", "Action item 2: Not now."]
    }


def test_a_domain_error_is_one_message_on_top():
    assert refused(ApplicationError("Closed.")) == {None: ["Closed."]}
    assert refused(ApplicationError("Closed."), prefix="Status update") == {None: ["Status update: Closed."]}


def test_other_errors_pass_through():
    with pytest.raises(KeyError), refusals():
        raise KeyError("bug")


class StepsAdmin(ServiceRowsSaveMixin):
    rows_key = "steps"
    rows_label = "Step"
    rows_refused = "The action could not be saved."


def test_a_refusal_of_rows_goes_to_each_row_the_inline_and_the_form():
    errors = {
        "steps.2.command": ["Unknown placeholder."],
        "steps.9": ["Gone."],
        "steps": ["At least one step."],
        "name": ["Taken."],
    }

    refusal = StepsAdmin()._rows_refusal(errors, form_indexes=[0, 3])

    assert refusal.errors == {"name": ["Taken."]}
    assert refusal.step_errors == {3: {"command": ["Unknown placeholder."]}}
    assert refusal.formset_errors == ["Step 9: Gone.", "At least one step."]
    assert StepsAdmin()._rows_refusal({}, form_indexes=[]).errors == {
        None: ["The action could not be saved."]
    }
