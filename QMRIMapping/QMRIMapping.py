import logging
import os
import pathlib
from typing import Annotated

import qt
import slicer
import vtk
from slicer import vtkMRMLSegmentationNode, vtkMRMLSequenceNode, vtkMRMLTableNode
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

#: Name of the companion module that can draw the liver ROI automatically (see
#: QMRIMappingLogic.automaticRoi for the hand-off contract).
COMPANION_ROI_MODULE = "UMSRep"

#: Python packages the core needs, as (import name, pip requirement). Slicer ships
#: numpy, SimpleITK, pydicom and scipy; the others are installed on first use.
CORE_REQUIREMENTS = (
    ("numpy", "numpy"), ("scipy", "scipy"), ("SimpleITK", "SimpleITK"),
    ("nibabel", "nibabel"), ("pydicom", "pydicom"), ("slicerio", "slicerio"),
    ("nrrd", "pynrrd"), ("tqdm", "tqdm"), ("yaml", "pyyaml"), ("highdicom", "highdicom"),
)

INPUT_SOURCES = ["Weighted volumes", "Volume sequence"]
ROLES = ["shared", "t1rho", "t2", "echo"]
DEVICES = [("cpu", "CPU"), ("cuda", "GPU (CUDA)")]


#
# QMRIMapping
#


class QMRIMapping(ScriptedLoadableModule):
    """Liver T1rho/T2 relaxometry mapping. The computation lives in QMRIMappingLib."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "QMRI Mapping"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = []
        self.parent.contributors = ["SlicerMultiTaskQMRI contributors"]
        self.parent.helpText = (
            "Fit T1rho and T2 maps of the liver from spin-lock, T2-prepared or multi-echo "
            "series (DICOM, NIfTI or NRRD), by nonlinear least squares, the two-point method "
            "or multi-task networks; draw the right-lobe ROI, read ROI statistics and RMAE, "
            "plot the signal decay and export maps as NRRD, NIfTI or DICOM Parametric Maps. "
            "See <a href='https://github.com/SlicerMultiTaskQMRI/SlicerMultiTaskQMRI'>"
            "the project page</a>."
        )
        self.parent.acknowledgementText = (
            "Developed by the SlicerMultiTaskQMRI contributors. The same core library "
            "(QMRIMappingLib) also runs from the command line as <code>qmri</code>."
        )


#
# QMRIMappingParameterNode
#


@parameterNodeWrapper
class QMRIMappingParameterNode:
    """Module state saved with the scene; widgets bind to it by SlicerParameterName."""

    inputSource: Annotated[str, Choice(INPUT_SOURCES)] = INPUT_SOURCES[0]
    inputSequence: vtkMRMLSequenceNode
    importFolder: pathlib.Path
    method: str = "nlls"
    model: str = ""
    device: str = "cpu"
    reference: str = ""
    roiSegmentation: vtkMRMLSegmentationNode
    roiFile: pathlib.Path
    maskMode: Annotated[str, Choice(["auto", "none"])] = "auto"
    chunkVoxels: Annotated[int, WithinRange(1000, 4000000)] = 32768
    makePlots: bool = True
    exportFolder: pathlib.Path
    exportNrrd: bool = True
    exportNifti: bool = False
    exportDicomPm: bool = True
    exportSegNrrd: bool = True
    exportDicomSeg: bool = False
    statisticsTable: vtkMRMLTableNode


#
# QMRIMappingWidget
#


class QMRIMappingWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: inputs, method, ROI drawing, Apply/Cancel, results and export."""

    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._run = None
        self._cancelRequested = False
        self._lastResult = None
        self._rows = []

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/QMRIMapping.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = QMRIMappingLogic()

        self.ui.timesTableWidget.setHorizontalHeaderLabels(["Volume", "Time (ms)", "Role"])
        self.ui.timesTableWidget.horizontalHeader().setStretchLastSection(True)
        self._setupSegmentEditor()
        self._populateMethods()
        self._populateDevices()
        self.ui.autoRoiButton.enabled = self.logic.companionRoiModuleAvailable()
        if not self.ui.autoRoiButton.enabled:
            self.ui.autoRoiButton.toolTip = (
                f"Install the {COMPANION_ROI_MODULE} module to segment the liver ROI "
                "automatically")

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.inputVolumesSelector.checkedNodesChanged.connect(self.onInputVolumesChanged)
        self.ui.inputSequenceSelector.currentNodeChanged.connect(self.onInputSequenceChanged)
        self.ui.inputSourceComboBox.currentIndexChanged.connect(self.onInputSourceChanged)
        self.ui.importFolderButton.clicked.connect(self.onImportFolder)
        self.ui.methodComboBox.currentIndexChanged.connect(self.onMethodChanged)
        self.ui.modelComboBox.currentIndexChanged.connect(self.onModelChanged)
        self.ui.deviceComboBox.currentIndexChanged.connect(self.onDeviceChanged)
        self.ui.referenceComboBox.currentIndexChanged.connect(self.onReferenceChanged)
        self.ui.roiSegmentationSelector.currentNodeChanged.connect(self.onRoiSegmentationChanged)
        self.ui.loadRoiButton.clicked.connect(self.onLoadRoi)
        self.ui.autoRoiButton.clicked.connect(self.onAutomaticRoi)
        self.ui.applyButton.clicked.connect(self.onApply)
        self.ui.cancelButton.clicked.connect(self.onCancel)
        self.ui.plotVoxelButton.clicked.connect(self.onPlotVoxel)
        self.ui.showPlotButton.clicked.connect(self.onShowPlot)
        self.ui.exportButton.clicked.connect(self.onExport)
        self.ui.saveBundleButton.clicked.connect(self.onSaveBundle)

        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()
        self._disconnectParameterNode()

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self._disconnectParameterNode()

    def onSceneStartClose(self, caller, event):
        self._disconnectParameterNode()
        self._parameterNode = None

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    # --- parameter node ---------------------------------------------------------------------

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, inputParameterNode):
        self._disconnectParameterNode()
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent,
                             self._updateFromParameterNode)
            self._updateFromParameterNode()

    def _disconnectParameterNode(self):
        if self._parameterNode and self._parameterNodeGuiTag:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent,
                                self._updateFromParameterNode)

    def _updateFromParameterNode(self, caller=None, event=None):
        """Sync the hand-filled choosers (method, model, device, reference) and buttons."""
        node = self._parameterNode
        if not node:
            return
        for combo, value in ((self.ui.methodComboBox, node.method),
                             (self.ui.deviceComboBox, node.device),
                             (self.ui.referenceComboBox, node.reference)):
            index = combo.findData(value)
            if index >= 0 and combo.currentIndex != index:
                combo.currentIndex = index
        sequenceMode = node.inputSource == INPUT_SOURCES[1]
        self.ui.inputVolumesSelector.enabled = not sequenceMode
        self.ui.inputSequenceSelector.enabled = sequenceMode
        self.ui.modelComboBox.enabled = node.method == "network" and self.ui.modelComboBox.count > 0
        running = self._run is not None
        self.ui.applyButton.enabled = not running and self.ui.timesTableWidget.rowCount >= 2
        self.ui.cancelButton.enabled = running
        hasResult = self._lastResult is not None
        for button in (self.ui.exportButton, self.ui.plotVoxelButton, self.ui.showPlotButton):
            button.enabled = hasResult and not running
        if node.statisticsTable:
            self.ui.statisticsTableView.setMRMLTableNode(node.statisticsTable)

    # --- choosers filled from the core ------------------------------------------------------

    def _populateMethods(self):
        """Methods and models come from QMRIMappingLib, so a network method plugs in later."""
        self.ui.methodComboBox.clear()
        self.ui.referenceComboBox.clear()
        self.ui.referenceComboBox.addItem("None", "")
        for index, method in enumerate(self.logic.availableMethods()):
            self.ui.methodComboBox.addItem(method.label, method.name)
            item = self.ui.methodComboBox.model().item(index)
            if not method.available:
                item.setEnabled(False)
                item.setToolTip(f"Not available: {method.reason}")
            else:
                item.setToolTip(method.description)
            if method.available and not method.needs_model:
                self.ui.referenceComboBox.addItem(method.label, method.name)
        self.ui.modelComboBox.clear()
        models = self.logic.availableModels()
        for model in models:
            self.ui.modelComboBox.addItem(model.label, model.name)
        if not models:
            self.ui.modelComboBox.toolTip = "No trained network model is installed"

    def _populateDevices(self):
        cudaAvailable, message = self.logic.cudaStatus()
        self.ui.deviceComboBox.clear()
        for index, (name, label) in enumerate(DEVICES):
            self.ui.deviceComboBox.addItem(label, name)
            if name == "cuda" and not cudaAvailable:
                item = self.ui.deviceComboBox.model().item(index)
                item.setEnabled(False)
                item.setToolTip(message)
        self.ui.deviceStatusLabel.text = message

    # --- inputs -----------------------------------------------------------------------------

    def onInputSourceChanged(self, index=None):
        self._refreshTimesTable()

    def onInputVolumesChanged(self):
        self._refreshTimesTable()

    def onInputSequenceChanged(self, node=None):
        self._refreshTimesTable()

    def _refreshTimesTable(self):
        """One row per weighted image with the core's first guess of its time and role."""
        # Read the combo box itself: this slot may run before the parameter node is updated.
        if self.ui.inputSourceComboBox.currentText == INPUT_SOURCES[1]:
            sequence = self.ui.inputSequenceSelector.currentNode()
            rows = self.logic.inputRowsForSequence(sequence) if sequence else []
        else:
            rows = self.logic.inputRowsForVolumes(self.ui.inputVolumesSelector.checkedNodes())
        self._rows = rows
        table = self.ui.timesTableWidget
        table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            nameItem = qt.QTableWidgetItem(row.name)
            nameItem.setFlags(qt.Qt.ItemIsSelectable | qt.Qt.ItemIsEnabled)
            nameItem.setToolTip(row.reason)
            table.setItem(index, 0, nameItem)
            timeText = "" if row.time_ms is None else f"{row.time_ms:g}"
            table.setItem(index, 1, qt.QTableWidgetItem(timeText))
            roleCombo = qt.QComboBox()
            roleCombo.addItems(ROLES)
            roleCombo.currentIndex = ROLES.index(row.role) if row.role in ROLES else 0
            table.setCellWidget(index, 2, roleCombo)
        missing = [row.name for row in rows if row.time_ms is None]
        self.ui.inputStatusLabel.text = (
            f"Type the time of: {', '.join(missing)}" if missing else
            f"{len(rows)} weighted images" if rows else "Pick the weighted images")
        self._updateFromParameterNode()

    def _rowsFromTable(self):
        """The table's rows, with the times and roles as the user left them."""
        rows = list(self._rows)
        table = self.ui.timesTableWidget
        for index, row in enumerate(rows):
            text = table.item(index, 1).text().strip() if table.item(index, 1) else ""
            try:
                row.time_ms = float(text) if text else None
            except ValueError as error:
                raise ValueError(f"'{text}' is not a time in ms (row {row.name})") from error
            row.role = table.cellWidget(index, 2).currentText
        return rows

    def onImportFolder(self):
        folder = self._parameterNode.importFolder if self._parameterNode else None
        if not folder or not os.path.isdir(str(folder)):
            slicer.util.errorDisplay("Choose a DICOM or NIfTI folder to import first.")
            return
        with slicer.util.tryWithErrorDisplay("Import failed.", waitCursor=True):
            nodes = self.logic.importFolder(str(folder))
            self._parameterNode.inputSource = INPUT_SOURCES[0]
            for node in nodes:
                self.ui.inputVolumesSelector.setCheckState(node, qt.Qt.Checked)
            self._refreshTimesTable()
            slicer.util.setSliceViewerLayers(background=nodes[0], fit=True)

    # --- method -----------------------------------------------------------------------------

    def onMethodChanged(self, index=None):
        if self._parameterNode:
            self._parameterNode.method = self.ui.methodComboBox.currentData or "nlls"

    def onModelChanged(self, index=None):
        if self._parameterNode:
            self._parameterNode.model = self.ui.modelComboBox.currentData or ""

    def onDeviceChanged(self, index=None):
        if self._parameterNode:
            self._parameterNode.device = self.ui.deviceComboBox.currentData or "cpu"

    def onReferenceChanged(self, index=None):
        if self._parameterNode:
            self._parameterNode.reference = self.ui.referenceComboBox.currentData or ""

    # --- ROI --------------------------------------------------------------------------------

    def _setupSegmentEditor(self):
        editor = self.ui.segmentEditorWidget
        editor.setMRMLScene(slicer.mrmlScene)
        editorNode = slicer.mrmlScene.GetSingletonNode("QMRIMapping", "vtkMRMLSegmentEditorNode")
        if editorNode is None:
            editorNode = slicer.mrmlScene.CreateNodeByClass("vtkMRMLSegmentEditorNode")
            editorNode.UnRegister(None)
            editorNode.SetSingletonTag("QMRIMapping")
            editorNode = slicer.mrmlScene.AddNode(editorNode)
        editor.setMRMLSegmentEditorNode(editorNode)

    def onRoiSegmentationChanged(self, node=None):
        editor = self.ui.segmentEditorWidget
        editor.setSegmentationNode(node)
        rows = self._rows
        if node is not None and rows:
            editor.setSourceVolumeNode(rows[0].node)

    def onLoadRoi(self):
        rows = self._rows
        path = self._parameterNode.roiFile if self._parameterNode else None
        if not rows or not path or not os.path.isfile(str(path)):
            slicer.util.errorDisplay("Pick the weighted images and an ROI file first.")
            return
        with slicer.util.tryWithErrorDisplay("The ROI file could not be loaded.", waitCursor=True):
            node = self.logic.loadRoiFile(str(path), rows[0].node)
            self._parameterNode.roiSegmentation = node

    def onAutomaticRoi(self):
        rows = self._rows
        if not rows:
            slicer.util.errorDisplay("Pick the weighted images first.")
            return
        with slicer.util.tryWithErrorDisplay("Automatic ROI failed.", waitCursor=True):
            node = self.logic.automaticRoi(rows[0].node, self._parameterNode.roiSegmentation)
            self._parameterNode.roiSegmentation = node

    # --- Apply / Cancel ---------------------------------------------------------------------

    def onApply(self):
        if not self.logic.ensureDependencies():
            return
        node = self._parameterNode
        try:
            rows = self._rowsFromTable()
        except ValueError as error:
            slicer.util.errorDisplay(str(error))
            return
        request = self.logic.request(
            rows, method=node.method, model=node.model or None, device=node.device,
            roi=node.roiSegmentation, reference=node.reference or None, mask=node.maskMode,
            chunkVoxels=node.chunkVoxels, makePlots=node.makePlots)
        self._run = self.logic.createRun(request)
        self._cancelRequested = False
        self.ui.progressBar.visible = True
        self.ui.progressBar.value = 0
        self._updateFromParameterNode()
        try:
            for progress in self._run.steps():
                self.ui.progressBar.value = int(100 * progress.fraction)
                self.ui.statusLabel.text = progress.message
                slicer.app.processEvents()
                if self._cancelRequested:
                    self._run.cancel()
                    self.ui.statusLabel.text = "Cancelled: the scene is as it was before Apply."
                    return
            self._showResult(self._run.result)
        except Exception as error:
            logging.exception("QMRIMapping failed")
            slicer.util.errorDisplay(f"Mapping failed: {error}")
            self.ui.statusLabel.text = f"Failed: {error}"
        finally:
            self._run = None
            self.ui.progressBar.visible = False
            self._updateFromParameterNode()

    def onCancel(self):
        self._cancelRequested = True
        self.ui.statusLabel.text = "Cancelling..."

    def _showResult(self, result):
        self._lastResult = result
        self._parameterNode.statisticsTable = result.table
        firstMap = next(iter(result.maps.values()))
        slicer.util.setSliceViewerLayers(background=result.input_nodes[0],
                                         foreground=firstMap.value, foregroundOpacity=0.7,
                                         fit=True)
        self.onShowPlot()

    # --- results ----------------------------------------------------------------------------

    def onPlotVoxel(self):
        crosshair = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLCrosshairNode")
        position = [0.0, 0.0, 0.0]
        crosshair.GetCursorPositionRAS(position)
        with slicer.util.tryWithErrorDisplay("The voxel could not be plotted."):
            self.logic.plotVoxel(self._lastResult, position)
            self.onShowPlot()

    def onShowPlot(self):
        if self._lastResult and self._lastResult.plots:
            plot = next(iter(self._lastResult.plots.values()))
            slicer.modules.plots.logic().ShowChartInLayout(plot.chart)

    def onExport(self):
        node = self._parameterNode
        formats = [name for name, checked in (
            ("nrrd", node.exportNrrd), ("nifti", node.exportNifti),
            ("dicom-pm", node.exportDicomPm), ("seg-nrrd", node.exportSegNrrd),
            ("dicom-seg", node.exportDicomSeg)) if checked]
        folder = str(node.exportFolder) if node.exportFolder else ""
        if not folder or folder == "." or not formats:
            slicer.util.errorDisplay("Choose an output folder and at least one format.")
            return
        with slicer.util.tryWithErrorDisplay("Export failed.", waitCursor=True):
            written = self.logic.exportResult(self._lastResult, folder, formats)
            self.ui.statusLabel.text = f"Exported {len(written)} file(s) to {folder}"

    def onSaveBundle(self):
        path = qt.QFileDialog.getSaveFileName(None, "Save scene bundle", "",
                                              "Medical Reality Bundle (*.mrb)")
        if path:
            with slicer.util.tryWithErrorDisplay("Saving failed.", waitCursor=True):
                self.logic.saveBundle(path)
                self.ui.statusLabel.text = f"Saved {path}"


#
# QMRIMappingLogic
#


class QMRIMappingLogic(ScriptedLoadableModuleLogic):
    """Thin adapter from Slicer to the pure-Python core (QMRIMappingLib).

    The core is imported inside the methods, so a missing optional dependency of the
    core (such as torch) cannot stop the module from loading when Slicer starts. The MRML
    work itself is done by ``QMRIMappingLib.mrml`` on the scene passed to it.

    Console use (Python Interactor)::

        logic = slicer.util.getModuleLogic("QMRIMapping")
        result = logic.run("/data/subject01/dicom", roi="/data/subject01/roi.seg.nrrd",
                           method="nlls")
        result.maps["T1rho"].value      # the "T1rho NLLS" volume node
        result.statistics               # ROI count, mean, SD, median (and RMAE) per map
    """

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return QMRIMappingParameterNode(super().getParameterNode())

    # --- core facts -------------------------------------------------------------------------

    def coreVersion(self):
        """Version string of the QMRIMappingLib that this module runs."""
        import QMRIMappingLib

        return QMRIMappingLib.__version__

    def availableMethods(self):
        """Mapping methods from the core (a MethodInfo list; network disabled without models)."""
        from QMRIMappingLib.methods import available_methods

        return available_methods()

    def availableModels(self):
        """Trained network models the core can run (empty until some are installed)."""
        from QMRIMappingLib.methods import available_models

        return available_models()

    def cudaStatus(self):
        """(available, message) of CUDA as PyTorch sees it."""
        from QMRIMappingLib.methods import cuda_status

        return cuda_status()

    # --- dependencies -----------------------------------------------------------------------

    def missingPackages(self):
        """pip requirements of the core (and torch) that this Python cannot import."""
        import importlib.util

        missing = [pip for name, pip in CORE_REQUIREMENTS if importlib.util.find_spec(name) is None]
        if importlib.util.find_spec("torch") is None:
            missing.append("torch")
        return missing

    def ensureDependencies(self, askConfirmation=True):
        """Install what the core needs on first use, after the user agreed.

        torch comes from the PyTorch extension (PyTorchUtils) when it is installed, which
        picks the CUDA build matching the GPU driver; otherwise from pip (CPU or default
        build). Returns True when everything can be imported.
        """
        missing = self.missingPackages()
        if not missing:
            return True
        if askConfirmation and not slicer.util.confirmOkCancelDisplay(
                "QMRI Mapping needs these Python packages, which will be downloaded and "
                f"installed now: {', '.join(missing)}. This can take several minutes.",
                "Install Python packages"):
            return False
        with slicer.util.WaitCursor():
            if "torch" in missing:
                missing.remove("torch")
                try:
                    import PyTorchUtils

                    PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False)
                except ImportError:
                    slicer.util.pip_install("torch")
            if missing:
                slicer.util.pip_install(" ".join(missing))
        return not self.missingPackages()

    # --- inputs -----------------------------------------------------------------------------

    def inputRowsForVolumes(self, volumeNodes):
        """First guesses of time and role for each volume (InputRow list)."""
        from QMRIMappingLib.mrml.inputs import rows_for_nodes

        return rows_for_nodes([node for node in volumeNodes
                               if not node.IsA("vtkMRMLLabelMapVolumeNode")])

    def inputRowsForSequence(self, sequenceNode):
        from QMRIMappingLib.mrml.inputs import rows_for_sequence

        return rows_for_sequence(sequenceNode)

    def importFolder(self, path, overrideFile=None, echoMap=None):
        """Import a DICOM or NIfTI+JSON folder with the core importer; returns the nodes."""
        from QMRIMappingLib.mrml.inputs import import_folder

        nodes, _ = import_folder(slicer.mrmlScene, path, override_file=overrideFile,
                                 echo_map=echoMap)
        return nodes

    def sourceFilesForNode(self, volumeNode):
        """DICOM files of a volume, recorded on it as QMRI.SourceFiles for the DICOM export.

        Volumes imported by this module carry them already; for volumes loaded by Slicer's
        DICOM module they are looked up in the DICOM database from DICOM.instanceUIDs.
        """
        from QMRIMappingLib.mrml.inputs import SOURCE_FILES_ATTRIBUTE

        files = volumeNode.GetAttribute(SOURCE_FILES_ATTRIBUTE)
        if files:
            return files.split("\n")
        uids = (volumeNode.GetAttribute("DICOM.instanceUIDs") or "").split()
        database = getattr(slicer, "dicomDatabase", None)
        if not uids or database is None:
            return []
        found = [database.fileForInstance(uid) for uid in uids]
        found = [path for path in found if path]
        if found:
            volumeNode.SetAttribute(SOURCE_FILES_ATTRIBUTE, "\n".join(found))
        return found

    # --- ROI --------------------------------------------------------------------------------

    def loadRoiFile(self, path, referenceVolumeNode):
        """Load a labelmap or .seg.nrrd as an ROI segmentation on the volume's grid."""
        from QMRIMappingLib.mrml.roi import segmentation_from_file

        return segmentation_from_file(slicer.mrmlScene, path, referenceVolumeNode,
                                      logic=self._segmentationsLogic())

    def companionRoiModuleAvailable(self):
        modules = getattr(slicer, "modules", None)
        return modules is not None and hasattr(modules, COMPANION_ROI_MODULE.lower())

    def automaticRoi(self, volumeNode, segmentationNode=None):
        """Hand-off to the companion module that segments the liver automatically.

        Contract: the module named COMPANION_ROI_MODULE ("UMSRep") has a logic with
        ``createLiverRoi(volumeNode, segmentationNode=None) -> vtkMRMLSegmentationNode``
        that puts a right-lobe ROI segment on ``volumeNode``'s grid (into
        ``segmentationNode`` when given). This module then uses that node like a drawn ROI.
        """
        if not self.companionRoiModuleAvailable():
            raise RuntimeError(f"the {COMPANION_ROI_MODULE} module is not installed")
        companion = slicer.util.getModuleLogic(COMPANION_ROI_MODULE)
        return companion.createLiverRoi(volumeNode, segmentationNode)

    def _segmentationsLogic(self):
        modules = getattr(slicer, "modules", None)
        segmentations = getattr(modules, "segmentations", None) if modules else None
        return segmentations.logic() if segmentations is not None else None

    # --- running ----------------------------------------------------------------------------

    def request(self, rows, method="nlls", model=None, device="cpu", roi=None,
                reference=None, voxelRas=None, mask="auto", chunkVoxels=32768,
                makePlots=True, folder=None, roiSegments=None):
        """Build the core's MappingRequest from module-level arguments.

        ``roi`` is a segmentation node or an ROI file path; ``reference`` a method name
        ("nlls", "two-point") or a {map name: volume node} dict for the RMAE column.
        """
        from QMRIMappingLib.mrml.session import MappingRequest

        roiNode = roi if roi is not None and hasattr(roi, "GetSegmentation") else None
        roiFile = str(roi) if roi is not None and roiNode is None else None
        return MappingRequest(rows=rows, folder=folder, method=method, model=model,
                              device=device, roi_node=roiNode, roi_segments=roiSegments,
                              roi_file=roiFile, reference=reference, voxel_ras=voxelRas,
                              mask=mask, chunk_voxels=chunkVoxels, make_plots=makePlots)

    def createRun(self, request):
        """A MappingRun on the application scene; drive it with steps() or run()."""
        from QMRIMappingLib.mrml.session import MappingRun

        for row in request.rows or []:
            self.sourceFilesForNode(row.node)  # so DICOM exports can reference the series
        return MappingRun(slicer.mrmlScene, request, self._segmentationsLogic())

    def run(self, inputs, roi=None, method="nlls", model=None, device="cpu", reference=None,
            times=None, roles=None, waitForCompletion=True, progressCallback=None, **options):
        """Map ``inputs`` and add the results to the scene (the console API).

        ``inputs`` is a folder path (DICOM or NIfTI+JSON), a list of weighted volume nodes,
        or a volume sequence node. ``times``/``roles`` (one per volume) override the guesses
        made from the volumes' attributes and names. ``roi`` is a segmentation node or a file;
        ``reference`` a method name for the RMAE column. Other keyword arguments go to
        :meth:`request` (voxelRas, mask, chunkVoxels, makePlots, roiSegments).

        With ``waitForCompletion`` the job runs to the end and the ``MappingResult`` is
        returned (``result.maps[name].value/.sd/.r2/.status``, ``result.table``,
        ``result.plots``, ``result.nodes()``); ``progressCallback(fraction, message)`` is
        called between steps. Otherwise the started ``MappingRun`` is returned to be driven
        with ``steps()`` and stopped with ``cancel()``.
        """
        folder = None
        if isinstance(inputs, (str, os.PathLike)):
            folder, rows = str(inputs), None
        elif hasattr(inputs, "GetNumberOfDataNodes"):
            rows = self.inputRowsForSequence(inputs)
        else:
            rows = self.inputRowsForVolumes(list(inputs))
        if rows is not None:
            for index, row in enumerate(rows):
                if times is not None:
                    row.time_ms = float(times[index])
                if roles is not None:
                    row.role = roles[index]
        run = self.createRun(self.request(rows, method=method, model=model, device=device,
                                          roi=roi, reference=reference, folder=folder,
                                          **options))
        if not waitForCompletion:
            return run
        for progress in run.steps():
            if progressCallback is not None:
                progressCallback(progress.fraction, progress.message)
        return run.result

    def plotVoxel(self, result, ras):
        """Redraw the voxel curves of every decay plot of ``result`` at RAS point ``ras``."""
        from QMRIMappingLib.mrml.plots import voxel_from_ras

        voxel = voxel_from_ras(result.mapping_input.geometry, tuple(ras))
        if voxel is None:
            raise ValueError("the crosshair is outside the weighted images")
        for plot in result.plots.values():
            plot.set_voxel(voxel)
        return voxel

    # --- output -----------------------------------------------------------------------------

    def exportResult(self, result, folder, formats=("nrrd", "dicom-pm", "seg-nrrd")):
        """Write maps and ROI of ``result`` to ``folder``; returns {what: path}."""
        from QMRIMappingLib.mrml.exports import export_result

        return export_result(result, folder, tuple(formats))

    def saveBundle(self, path):
        """Save the application scene as a .mrb bundle."""
        from QMRIMappingLib.mrml.scene import save_mrb

        return save_mrb(slicer.mrmlScene, path)

    def fitFolder(self, inputPath, outputPath, method="nlls", roiPath=None, overwrite=False):
        """Fit the maps of the series in inputPath and write them to outputPath (no scene).

        method is "nlls" or a network method of the core; roiPath optionally limits the fit
        to a labelmap or segmentation file. Returns the summary dictionary of
        QMRIMappingLib.pipeline.run_fit; input errors raise QMRIMappingLib's UserInputError,
        which the caller (the panel, a script) reports.
        """
        from QMRIMappingLib.pipeline import run_fit

        return run_fit(inputPath, outputPath, method=method, roi=roiPath, overwrite=overwrite)


#
# QMRIMappingTest
#


class QMRIMappingTest(ScriptedLoadableModuleTest):
    """Self-test of the module. It runs only inside Slicer (Reload and Test, or ctest):
    it cannot run in the project's test suite, which has no Slicer application. Its logic
    path (phantom DICOM -> ROI -> maps, uncertainty and table -> export, cancel) is covered
    there by pytest against the MRML libraries of slicer-core
    (tests/test_mrml_full_path.py, tests/test_slicer_module_logic.py)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_QMRIMappingCoreImport()
        self.setUp()
        self.test_QMRIMappingPhantom()

    def test_QMRIMappingCoreImport(self):
        self.delayDisplay("Importing the core library")
        import QMRIMappingLib

        self.assertEqual(QMRIMappingLogic().coreVersion(), QMRIMappingLib.__version__)
        self.delayDisplay("Test passed")

    def test_QMRIMappingPhantom(self):
        """Phantom subject as DICOM -> two-point maps with NLLS reference -> export -> cancel."""
        import tempfile

        from QMRIMappingLib.phantom import generate_subject, write_subject

        self.delayDisplay("Writing a phantom subject as DICOM")
        folder = pathlib.Path(tempfile.mkdtemp(prefix="qmri-selftest-"))
        subject = generate_subject(7, matrix=64, n_slices=2, snr=60.0)
        write_subject(subject, folder / "subject", "dicom")

        logic = QMRIMappingLogic()
        self.delayDisplay("Mapping (two-point, RMAE against NLLS)")
        result = logic.run(folder / "subject" / "images",
                           roi=folder / "subject" / "ground_truth" / "roi.nii.gz",
                           method="two-point", reference="nlls", chunkVoxels=4096)
        self.assertEqual(set(result.maps), {"T1rho", "T2"})
        self.assertEqual(result.maps["T1rho"].value.GetName(), "T1rho two-point")
        for row in result.statistics:
            self.assertGreater(row["Count"], 0)
            self.assertLess(row["RMAE"], 25.0)

        self.delayDisplay("Exporting a DICOM Parametric Map")
        written = logic.exportResult(result, folder / "export", ("nrrd", "dicom-pm"))
        self.assertTrue(any(key.endswith("dicom-pm") for key in written))

        self.delayDisplay("Cancel leaves the scene as it was")
        before = slicer.mrmlScene.GetNumberOfNodes()
        run = logic.run(result.input_nodes, method="nlls", waitForCompletion=False,
                        chunkVoxels=1000)
        steps = run.steps()
        for _ in range(4):
            next(steps)
        run.cancel()
        self.assertEqual(slicer.mrmlScene.GetNumberOfNodes(), before)
        self.delayDisplay("Test passed")
