"""Helpers of the adapter tests: a tokenizer trained here, and a patient stored or mirrored."""

from __future__ import annotations

import numpy as np

WORDS = ("the a is on left right which side lung nodule of in chest ct slice answer question "
         "you are radiologist reading based above below slices block").split()


def word_tokenizer(specials=()):
    """A whitespace word-level tokenizer trained on a few words, plus ``specials`` as tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = ["<unk>", "<pad>", "<s>", "</s>", *specials, *WORDS]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    if specials:
        tokenizer.add_special_tokens({"additional_special_tokens": list(specials)})
    return tokenizer



def lps_copy(image):
    """The same patient stored in LPS order: the data flipped in x and y, the affine to match."""
    import nibabel as nib

    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:2, 3] = [image.shape[0] - 1, image.shape[1] - 1]
    data = np.asanyarray(image.dataobj)[::-1, ::-1, :].copy()
    return nib.Nifti1Image(data, image.affine @ flip)


def mirrored(image):
    """The patient mirrored left-right: same header, voxels flipped along the RAS x axis."""
    import nibabel as nib

    return nib.Nifti1Image(np.asanyarray(image.dataobj)[::-1].copy(), image.affine)
