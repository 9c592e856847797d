"""nbgrader's check of the cells' grading metadata, with its JSON schema checked once.

nbgrader's ``CheckCellMetadata`` runs twice on every autograded notebook. Each time it
builds a new ``MetadataValidator`` (reading three schema files) and validates every cell
with ``jsonschema.validate``, which first checks the schema itself against the draft-4
metaschema: on a notebook of about thirty cells that is most of the check, a tenth of a
CPU second per notebook graded. :class:`CheckCellMetadataOnce` makes the same checks, in
the same order, with the same errors, from one validator per process.
"""

from __future__ import annotations

import functools
import traceback
from typing import Any

import jsonschema
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import (
    BaseMetadataValidator,
    SchemaTooNewError,
    SchemaTooOldError,
)
from nbgrader.preprocessors import CheckCellMetadata


class _SchemaCheckedOnce(BaseMetadataValidator):
    """The schema-version and JSON-schema part of nbgrader's ``validate_cell``, with a
    validator built (and its schema checked) once per instance."""

    @functools.cached_property
    def _schema_validator(self) -> Any:
        validator_class = jsonschema.validators.validator_for(self.schema)
        validator_class.check_schema(self.schema)
        return validator_class(self.schema)

    def validate_cell(self, cell: NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        schema = cell.metadata["nbgrader"].get("schema_version", 0)
        if schema < self.schema_version:
            raise SchemaTooOldError(
                f"Outdated schema version: {schema} (expected {self.schema_version})",
                schema,
                self.schema_version,
            )
        if schema > self.schema_version:
            raise SchemaTooNewError(
                f"Schema version is too new: {schema} (expected {self.schema_version})",
                schema,
                self.schema_version,
            )
        # what jsonschema.validate raises: the best match among the errors
        error = jsonschema.exceptions.best_match(
            self._schema_validator.iter_errors(cell.metadata["nbgrader"])
        )
        if error is not None:
            raise error


class MetadataValidatorOnce(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's current ``MetadataValidator``: its own cell and notebook checks, on top
    of :class:`_SchemaCheckedOnce` in place of the base class's schema check."""


@functools.cache
def metadata_validator() -> MetadataValidatorOnce:
    """The process's one validator (it keeps no state between notebooks), its schema
    already checked: a process that forks after calling this hands the check down."""
    validator = MetadataValidatorOnce()
    validator._schema_validator  # noqa: B018 (built and cached here, not on first cell)
    return validator


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata``: the same checks, log and error, from
    :func:`metadata_validator`."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        try:
            metadata_validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message) from None
        return nb, resources
