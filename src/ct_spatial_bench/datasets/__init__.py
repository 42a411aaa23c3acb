"""Kedro datasets the kedro-datasets package lacks."""

from ct_spatial_bench.datasets.all_model_inputs_dataset import AllModelInputsDataset
from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset
from ct_spatial_bench.datasets.model_inputs_dataset import ModelInputsDataset
from ct_spatial_bench.datasets.nifti_dataset import NiftiDataset
from ct_spatial_bench.datasets.npy_dataset import NpyDataset
from ct_spatial_bench.datasets.qa_dataset import QADataset
from ct_spatial_bench.datasets.records_dataset import RecordsDataset

__all__ = ["AllModelInputsDataset", "JsonLinesDataset", "ModelInputsDataset", "NiftiDataset", "NpyDataset",
           "QADataset", "RecordsDataset"]
