"""One mapping job on a scene, in steps that can be cancelled: :class:`MappingRun`.

A run reads the weighted volumes (or imports a folder), resolves the ROI, fits the maps
in parts of the mask, and adds the results under the input's study: map, SD, R² and
status volumes, a statistics table with RMAE against a reference, and decay plots.

:meth:`MappingRun.steps` is a generator: the Slicer module advances it between GUI event
processing, a script just calls :meth:`MappingRun.run`. Every node and subject hierarchy
item the run adds is recorded; :meth:`MappingRun.cancel` (or any error) removes them
again, so a cancelled or failed run leaves the scene as it found it. Attributes of the
user's input volumes (their times and roles) are only written once the run succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..chunked_fit import DEFAULT_CHUNK_VOXELS, ChunkedFit
from ..errors import UserInputError
from ..fitting import FitOptions
from ..mapping import fit_mask, input_sigma
from ..mapping_input import MappingInput
from . import hierarchy, inputs, outputs, plots, roi, tables, volumes
from .tracking import SceneChanges


@dataclass
class MappingRequest:
    """What to map and how.

    Give the weighted images as ``rows`` (volume nodes with times and roles, see
    :class:`~.inputs.InputRow`) or as a ``folder`` to import. The ROI is a segmentation
    node (``roi_node``, optionally limited to ``roi_segments``) or a file (``roi_file``).
    ``reference`` is a method name whose maps the RMAE is taken against (found in the
    scene for the same inputs, or computed by this run when missing), or a dict
    ``{map name: volume node}``. ``voxel_ras`` picks the voxel of the decay plots
    (default: the ROI voxel nearest the ROI centre).
    """

    rows: list[inputs.InputRow] | None = None
    folder: str | Path | None = None
    method: str = "nlls"
    model: str | None = None
    device: str = "cpu"
    roi_node: object = None
    roi_segments: list[str] | None = None
    roi_file: str | Path | None = None
    reference: str | dict | None = None
    voxel_ras: tuple[float, float, float] | None = None
    options: FitOptions | None = None
    two_point_times: dict[str, float] | None = None
    echo_map: str | None = None
    mask: str = "auto"
    chunk_voxels: int = DEFAULT_CHUNK_VOXELS
    make_plots: bool = True


@dataclass
class MappingResult:
    """What a finished run added, and the numbers behind it."""

    mapping_input: MappingInput
    input_nodes: list
    outcomes: dict
    maps: dict[str, outputs.MapNodes]
    table: object
    plots: dict[str, plots.DecayPlot]
    roi_mask: np.ndarray | None
    roi_description: str
    roi_node: object
    study_item: int
    folder_item: int
    label: str
    statistics: list[dict] = field(default_factory=list)
    reference_maps: dict[str, outputs.MapNodes] = field(default_factory=dict)

    def nodes(self) -> list:
        """All nodes of the result (maps, table, plots) for scripting."""
        found = [node for group in self.maps.values() for node in group.all()]
        found += [self.table] + [n for p in self.plots.values() for n in p.nodes()]
        return [node for node in found if node is not None]


@dataclass
class Progress:
    """Where a run is: ``fraction`` in [0, 1] and a message for the status line."""

    fraction: float
    message: str


class MappingRun:
    """One cancellable mapping job on ``scene`` (see the module docstring)."""

    def __init__(self, scene, request: MappingRequest, segmentations_logic=None) -> None:
        self.scene = scene
        self.request = request
        self.segmentations_logic = roi.segmentations_logic(scene, segmentations_logic)
        self.result: MappingResult | None = None
        self.cancelled = False
        self._changes = SceneChanges(scene)

    # --- driving ---------------------------------------------------------------------------

    def run(self) -> MappingResult:
        """Do the whole job without pausing; returns the result."""
        for _ in self.steps():
            pass
        return self.result

    def cancel(self) -> None:
        """Stop and remove everything this run added to the scene."""
        self.cancelled = True
        self._rollback()

    def steps(self) -> Iterator[Progress]:
        """The job as a generator of :class:`Progress`.

        An error rolls the scene back, and so does closing the generator before the result
        exists (abandoning a run is cancelling it).
        """
        try:
            yield from self._steps()
        except GeneratorExit:
            if self.result is None:
                self._rollback()
            raise
        except BaseException:
            self.result = None
            self._rollback()
            raise

    # --- the job ---------------------------------------------------------------------------

    def _steps(self) -> Iterator[Progress]:
        request = self.request
        options = replace(request.options or FitOptions(), device=request.device)
        yield Progress(0.0, "Reading the weighted images")
        with self._tracking():
            rows = self._input_rows()
            mapping_input = inputs.mapping_input_from_rows(rows, request.echo_map,
                                                           self._source(rows))
        reference_node = rows[0].node
        geometry = mapping_input.geometry

        yield Progress(0.05, "Resampling the ROI onto the images")
        with self._tracking():
            roi_mask, roi_description, roi_node = self._roi(reference_node)
        roi_label = _roi_label(roi_node) if roi_mask is not None else "fitted voxels (no ROI)"
        sigma, _ = input_sigma(mapping_input, options)
        mask = fit_mask(mapping_input, request.mask, sigma, roi_mask)

        label = outputs.method_label(request.method, request.model)
        signature = " ".join(sorted(row.node.GetID() for row in rows))
        references, reference_label, reference_fit = self._existing_reference(
            signature, mapping_input)
        fits = [(request.method, request.model, 0.1, 0.85 if reference_fit else 0.9)]
        if reference_fit:
            fits.append((request.reference, None, 0.5, 0.9))
            fits[0] = (request.method, request.model, 0.1, 0.5)
        outcomes_by_method = {}
        for method, model, start, end in fits:
            fitter = ChunkedFit(mapping_input, method, options, mask, request.two_point_times,
                                model, request.chunk_voxels)
            name = outputs.method_label(method, model)
            for done, total in fitter.steps():
                yield Progress(start + (end - start) * done / total,
                               f"Fitting {name}: part {done} of {total}")
            outcomes_by_method[method] = fitter.outcomes
        outcomes = outcomes_by_method[request.method]

        yield Progress(0.9, "Adding the maps to the scene")
        with self._tracking():
            study = hierarchy.ensure_study(self.scene, [row.scene_node for row in rows],
                                           *self._names_for_new_study(mapping_input))
            attributes = {"QMRI.Inputs": signature}
            reference_maps = {}
            if reference_fit:
                reference_label = outputs.method_label(request.reference)
                reference_folder = hierarchy.create_folder(self.scene, study,
                                                           f"QMRI maps {reference_label}")
                for name, outcome in outcomes_by_method[request.reference].items():
                    group = outputs.add_map_nodes(self.scene, outcome, geometry,
                                                  request.reference, reference_label,
                                                  roi_mask, attributes)
                    reference_maps[name] = group
                    for node in group.all():
                        hierarchy.place(self.scene, node, reference_folder)
                references = {name: volumes.array_from_node(group.value)
                              for name, group in reference_maps.items()}
            folder = hierarchy.create_folder(self.scene, study, f"QMRI maps {label}")
            maps = {}
            for name, outcome in outcomes.items():
                maps[name] = outputs.add_map_nodes(self.scene, outcome, geometry,
                                                   request.method, label, roi_mask,
                                                   {**attributes, "QMRI.Model":
                                                    request.model or ""})
                for node in maps[name].all():
                    hierarchy.place(self.scene, node, folder)
            if roi_node is not None:
                hierarchy.place(self.scene, roi_node, study)

        yield Progress(0.95, "ROI statistics and decay plots")
        with self._tracking():
            statistics_roi = roi_mask if roi_mask is not None else mask
            rows_out = [tables.statistics_row(
                name, label, outcome.result.t_ms,
                statistics_roi if statistics_roi is not None else
                np.isfinite(outcome.result.t_ms), roi_label, references.get(name),
                reference_label if name in references else "")
                for name, outcome in outcomes.items()]
            table = tables.add_statistics_table(self.scene, rows_out, f"QMRI statistics {label}")
            hierarchy.place(self.scene, table, folder)
            decay_plots = {}
            if request.make_plots:
                voxel = self._voxel(geometry, roi_mask, mask)
                series = mapping_input.map_series()
                for name, outcome in outcomes.items():
                    plot = plots.add_decay_plot(self.scene, outcome, series[name], roi_mask,
                                                label, voxel)
                    for node in plot.nodes():
                        hierarchy.place(self.scene, node, folder)
                    decay_plots[name] = plot
        inputs.remember(rows)
        self.result = MappingResult(
            mapping_input=mapping_input,
            input_nodes=list(dict.fromkeys(row.scene_node for row in rows)),
            outcomes=outcomes, maps=maps, table=table, plots=decay_plots, roi_mask=roi_mask,
            roi_description=roi_description, roi_node=roi_node, study_item=study,
            folder_item=folder, label=label, statistics=rows_out,
            reference_maps=reference_maps)
        yield Progress(1.0, f"Done: {', '.join(outputs.output_name(n, label) for n in maps)}")

    # --- pieces ----------------------------------------------------------------------------

    def _input_rows(self) -> list[inputs.InputRow]:
        request = self.request
        if request.folder is not None:
            nodes, imported = inputs.import_folder(self.scene, request.folder,
                                                   echo_map=request.echo_map)
            return inputs.rows_for_nodes(nodes)
        if not request.rows:
            raise UserInputError("no input: pick weighted volumes, a sequence or a folder")
        return list(request.rows)

    def _source(self, rows: list[inputs.InputRow]) -> str:
        if self.request.folder is not None:
            return str(self.request.folder)
        return ", ".join(row.name for row in rows)

    def _roi(self, reference_node):
        request = self.request
        if request.roi_node is not None:
            mask, description = roi.mask_from_segmentation(
                self.scene, request.roi_node, reference_node, request.roi_segments,
                self.segmentations_logic)
            return mask, description, request.roi_node
        if request.roi_file is not None:
            node = roi.segmentation_from_file(self.scene, request.roi_file, reference_node,
                                              logic=self.segmentations_logic)
            mask, description = roi.mask_from_segmentation(self.scene, node, reference_node,
                                                           None, self.segmentations_logic)
            return mask, f"{Path(request.roi_file).name}: {description}", node
        return None, "", None

    def _existing_reference(self, signature: str, mapping_input: MappingInput):
        """Reference arrays found in the scene, their label, and whether to compute them."""
        reference = self.request.reference
        if reference is None:
            return {}, "", False
        geometry = mapping_input.geometry
        if isinstance(reference, dict):
            found = {}
            for name, node in reference.items():
                problem = geometry.mismatch(volumes.geometry_from_node(node))
                if problem:
                    raise UserInputError(f"reference '{node.GetName()}' is on another grid "
                                         f"({problem})")
                found[name] = volumes.array_from_node(node).astype(np.float64)
            labels = sorted({node.GetName() for node in reference.values()})
            return found, ", ".join(labels), False
        if reference == self.request.method:
            raise UserInputError("the RMAE reference must be another method than the one run")
        found = {}
        for name in mapping_input.map_series():
            candidates = [node for node in _map_nodes(self.scene, name, reference)
                          if node.GetAttribute("QMRI.Inputs") == signature]
            if candidates:
                found[name] = volumes.array_from_node(candidates[-1]).astype(np.float64)
        if len(found) == len(mapping_input.map_series()):
            return found, outputs.method_label(reference), False
        return {}, outputs.method_label(reference), True

    def _voxel(self, geometry, roi_mask, mask) -> tuple[int, int, int] | None:
        if self.request.voxel_ras is not None:
            voxel = plots.voxel_from_ras(geometry, self.request.voxel_ras)
            if voxel is None:
                raise UserInputError("the picked point lies outside the weighted images")
            return voxel
        region = roi_mask if roi_mask is not None else mask
        if region is None or not region.any():
            return None
        points = np.argwhere(region)
        centre = points.mean(axis=0)
        return tuple(int(v) for v in points[np.argmin(((points - centre) ** 2).sum(1))])

    def _names_for_new_study(self, mapping_input: MappingInput) -> tuple[str, str]:
        return hierarchy.DEFAULT_SUBJECT, f"{hierarchy.DEFAULT_STUDY} ({mapping_input.kind})"

    # --- bookkeeping -----------------------------------------------------------------------

    def _tracking(self):
        return self._changes.track()

    def _rollback(self) -> None:
        self._changes.undo()


def _roi_label(segmentation_node) -> str:
    """``"Segmentation: Right lobe ROI"``: the node and its segment names, for the table."""
    names = [segmentation_node.GetSegmentation().GetSegment(i).GetName()
             for i in roi.segment_ids(segmentation_node)]
    return f"{segmentation_node.GetName()}: {', '.join(names)}"


def _map_nodes(scene, map_name: str, method: str) -> list:
    from .scene import nodes_with_attribute

    return nodes_with_attribute(scene, "vtkMRMLScalarVolumeNode", Map=map_name, Method=method,
                                Output="map")
