"""Variants of the pixel-similarity lab's answer cells (see tests/mutants.py).

Prompts, in short: `stacks` sorted file lists `threes`/`sevens` and float stacks in [0, 1] shaped [n, 28, 28];
`means` the mean over the first axis; `mnist_distance` the mean absolute difference over the last two axes,
broadcasting a stack against one image; `is_3` True where nearer mean3 than mean7 (by mnist_distance), one
boolean per image, no Python loop; `accuracy` the validation stacks loaded the same way and the two accuracies
computed from is_3 (no typed numbers); `rmse` the root of the mean of squares over the last two axes, with the
same broadcasting.
"""
from mutants import bug, ok

STACKS_TAIL = "stacked_threes.shape, stacked_sevens.shape\n"
ACC_TAIL = "accuracy_3s, accuracy_7s, (accuracy_3s+accuracy_7s)/2\n"

VARIANTS = [
    # ---------------------------------------------------------------------------------------------- stacks
    ok("stacks", "sorted() on the lists, .div(255) on each image before stacking",
       source="threes = sorted((path/'train'/'3').ls())\n"
              "sevens = sorted((path/'train'/'7').ls())\n"
              "stacked_threes = torch.stack([tensor(Image.open(f)).float().div(255) for f in threes])\n"
              "stacked_sevens = torch.stack([tensor(Image.open(f)).float().div(255) for f in sevens])\n"
              + STACKS_TAIL),
    ok("stacks", "a helper function, numpy arrays, torch.float32 and /255.0",
       source="import numpy as np\n"
              "def load_digit(files):\n"
              "    arrays = [np.array(Image.open(fn)) for fn in files]\n"
              "    return torch.tensor(np.stack(arrays)).to(torch.float32) / 255.0\n"
              "threes = (path/'train'/'3').ls().sorted()\n"
              "sevens = (path/'train'/'7').ls().sorted()\n"
              "stacked_threes = load_digit(threes)\n"
              "stacked_sevens = load_digit(sevens)\n"
              "print(len(threes), len(sevens))\n"
              + STACKS_TAIL),
    ok("stacks", "doubles (float64) instead of float32",
       replace=("stacked_threes = torch.stack(three_tensors).float()/255\n"
                "stacked_sevens = torch.stack(seven_tensors).float()/255\n",
                "stacked_threes = torch.stack(three_tensors).double()/255\n"
                "stacked_sevens = torch.stack(seven_tensors).double()/255\n")),
    bug("stacks", "floats but not divided by 255 (pixels 0 to 255)",
        replace=("stacked_threes = torch.stack(three_tensors).float()/255\n"
                 "stacked_sevens = torch.stack(seven_tensors).float()/255\n",
                 "stacked_threes = torch.stack(three_tensors).float()\n"
                 "stacked_sevens = torch.stack(seven_tensors).float()\n")),
    bug("stacks", "torch.cat instead of torch.stack (shape [n*28, 28])",
        replace=("stacked_threes = torch.stack(three_tensors).float()/255\n"
                 "stacked_sevens = torch.stack(seven_tensors).float()/255\n",
                 "stacked_threes = torch.cat(three_tensors).float()/255\n"
                 "stacked_sevens = torch.cat(seven_tensors).float()/255\n")),
    bug("stacks", "integer division //255 (every pixel 0 or 1)",
        replace=("stacked_threes = torch.stack(three_tensors).float()/255\n"
                 "stacked_sevens = torch.stack(seven_tensors).float()/255\n",
                 "stacked_threes = torch.stack(three_tensors).float()//255\n"
                 "stacked_sevens = torch.stack(seven_tensors).float()//255\n")),
    bug("stacks", "file lists not sorted (the prompt asks for sorted lists)",
        replace=("threes = (path/'train'/'3').ls().sorted()\nsevens = (path/'train'/'7').ls().sorted()\n",
                 "threes = (path/'train'/'3').ls()\nsevens = (path/'train'/'7').ls()\n")),
    bug("stacks", "the 7s read from the validation folder",
        replace=("sevens = (path/'train'/'7').ls().sorted()", "sevens = (path/'valid'/'7').ls().sorted()")),

    # ---------------------------------------------------------------------------------------------- means
    ok("means", "torch.mean with dim=0", replace=("mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\n",
                                                  "mean3 = torch.mean(stacked_threes, dim=0)\n"
                                                  "mean7 = torch.mean(stacked_sevens, dim=0)\n")),
    ok("means", "sum over the images divided by their number",
       replace=("mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\n",
                "mean3 = stacked_threes.sum(0) / len(stacked_threes)\n"
                "mean7 = stacked_sevens.sum(axis=0) / stacked_sevens.shape[0]\n")),
    ok("means", "float() first and a print", replace=("mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\n",
                                                      "mean3 = stacked_threes.float().mean(0)\n"
                                                      "mean7 = stacked_sevens.float().mean(0)\n"
                                                      "print(mean3.min(), mean3.max())\n")),
    bug("means", "mean over the wrong axis (1): shape [n, 28]",
        replace=("mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\n",
                 "mean3 = stacked_threes.mean(1)\nmean7 = stacked_sevens.mean(1)\n")),
    bug("means", "mean of every pixel of every image (one number)",
        replace=("mean3 = stacked_threes.mean(0)\nmean7 = stacked_sevens.mean(0)\n",
                 "mean3 = stacked_threes.mean()\nmean7 = stacked_sevens.mean()\n")),
    bug("means", "copy-paste: mean7 is also the mean of the 3s",
        replace=("mean7 = stacked_sevens.mean(0)", "mean7 = stacked_threes.mean(0)")),
    bug("means", "the sum of the 3s divided by the number of 7s",
        replace=("mean3 = stacked_threes.mean(0)", "mean3 = stacked_threes.sum(0)/len(stacked_sevens)")),

    # ---------------------------------------------------------------------------------------------- mnist_distance
    ok("mnist_distance", "mean over the last two axes in one call, dim= keyword",
       replace=("(a-b).abs().mean((-1,-2))", "(a-b).abs().mean(dim=(-2,-1))")),
    ok("mnist_distance", "torch.abs and two means, one axis at a time",
       replace=("return (a-b).abs().mean((-1,-2))", "diff = torch.abs(b - a)\n    return diff.mean(-1).mean(-1)")),
    ok("mnist_distance", "F.l1_loss with reduction='none', then the mean over the last two axes",
       replace=("return (a-b).abs().mean((-1,-2))",
                "a, b = torch.broadcast_tensors(a, b)\n    return F.l1_loss(a, b, reduction='none').mean((-2,-1))")),
    bug("mnist_distance", "squared error instead of absolute",
        replace=("(a-b).abs().mean((-1,-2))", "((a-b)**2).mean((-1,-2))")),
    bug("mnist_distance", "mean over every axis (one number for a whole stack)",
        replace=("(a-b).abs().mean((-1,-2))", "(a-b).abs().mean()")),
    bug("mnist_distance", "no abs(): positive and negative differences cancel",
        replace=("(a-b).abs().mean((-1,-2))", "(a-b).mean((-1,-2))")),
    bug("mnist_distance", "RMSE instead of the L1 distance",
        replace=("(a-b).abs().mean((-1,-2))", "((a-b)**2).mean((-1,-2)).sqrt()")),
    bug("mnist_distance", "mean over the first two axes (0, 1): wrong for a stack",
        replace=("(a-b).abs().mean((-1,-2))", "(a-b).abs().mean((0,1))")),
    bug("mnist_distance", "sum instead of mean",
        replace=("(a-b).abs().mean((-1,-2))", "(a-b).abs().sum((-1,-2))")),

    # ---------------------------------------------------------------------------------------------- is_3
    ok("is_3", "written as a comparison the other way round",
       replace=("mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                "mnist_distance(x, mean7) > mnist_distance(x, mean3)")),
    ok("is_3", "two local distances, then torch.lt",
       replace=("return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                "d3 = mnist_distance(x, mean3)\n    d7 = mnist_distance(x, mean7)\n    return torch.lt(d3, d7)")),
    ok("is_3", "the sign of the difference of the distances",
       replace=("return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                "return (mnist_distance(x, mean3) - mnist_distance(x, mean7)) < 0")),
    bug("is_3", "a Python loop over the images (the prompt asks for broadcasting)",
        replace=("return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                 "if x.dim() == 2:\n"
                 "        return mnist_distance(x, mean3) < mnist_distance(x, mean7)\n"
                 "    results = []\n"
                 "    for img in x:\n"
                 "        results.append(mnist_distance(img, mean3) < mnist_distance(img, mean7))\n"
                 "    return torch.stack(results)")),
    bug("is_3", "the comparison reversed (calls a 7 a 3)",
        replace=("mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                 "mnist_distance(x, mean3) > mnist_distance(x, mean7)")),
    bug("is_3", "copy-paste: compares with mean3 twice (never True)",
        replace=("mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                 "mnist_distance(x, mean3) < mnist_distance(x, mean3)")),
    bug("is_3", "bool() of the comparison: one answer, fails on a stack",
        replace=("return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
                 "return bool(mnist_distance(x, mean3) < mnist_distance(x, mean7))")),

    # ---------------------------------------------------------------------------------------------- accuracy
    ok("accuracy", "~is_3 for the 7s, sorted folders, a loader function",
       source="def load_valid(d):\n"
              "    return torch.stack([tensor(Image.open(o)) for o in (path/'valid'/d).ls().sorted()]).float()/255\n"
              "valid_3_tens = load_valid('3')\n"
              "valid_7_tens = load_valid('7')\n"
              "accuracy_3s = is_3(valid_3_tens).float().mean()\n"
              "accuracy_7s = (~is_3(valid_7_tens)).float().mean()\n" + ACC_TAIL),
    ok("accuracy", "Python floats: count of correct answers over the number of images",
       replace=("accuracy_3s = is_3(valid_3_tens).float().mean()\n"
                "accuracy_7s = (1 - is_3(valid_7_tens).float()).mean()\n",
                "accuracy_3s = is_3(valid_3_tens).sum().item() / len(valid_3_tens)\n"
                "accuracy_7s = 1 - is_3(valid_7_tens).sum().item() / len(valid_7_tens)\n")),
    ok("accuracy", "1 - the mean, and named intermediate results",
       replace=("accuracy_3s = is_3(valid_3_tens).float().mean()\n"
                "accuracy_7s = (1 - is_3(valid_7_tens).float()).mean()\n",
                "preds_3 = is_3(valid_3_tens)\npreds_7 = is_3(valid_7_tens)\n"
                "accuracy_3s = preds_3.float().mean()\naccuracy_7s = 1 - preds_7.float().mean()\n")),
    bug("accuracy", "accuracy_7s counts the 7s that is_3 calls a 3 (the not is missing)",
        replace=("accuracy_7s = (1 - is_3(valid_7_tens).float()).mean()", "accuracy_7s = is_3(valid_7_tens).float().mean()")),
    bug("accuracy", "validation images not divided by 255",
        replace=("valid_3_tens = valid_3_tens.float()/255\n", "valid_3_tens = valid_3_tens.float()\n")),
    bug("accuracy", "the book's number typed in for accuracy_3s",
        replace=("accuracy_3s = is_3(valid_3_tens).float().mean()", "accuracy_3s = tensor(0.9168)")),
    bug("accuracy", "a count of correct images instead of a fraction",
        replace=("accuracy_3s = is_3(valid_3_tens).float().mean()", "accuracy_3s = is_3(valid_3_tens).float().sum()")),
    bug("accuracy", "the 3s loaded from the training folder",
        replace=("(path/'valid'/'3').ls()", "(path/'train'/'3').ls()")),

    # ---------------------------------------------------------------------------------------------- rmse
    ok("rmse", "torch.sqrt of torch.mean, dim= keyword",
       replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return torch.sqrt(torch.mean((a - b)**2, dim=(-2, -1)))")),
    ok("rmse", "pow(2), two means and **0.5",
       replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "sq = (a-b).pow(2)\n    return sq.mean(-1).mean(-1) ** 0.5")),
    ok("rmse", "F.mse_loss with reduction='none' and the mean over the last two axes",
       replace=("return ((a-b)**2).mean((-1,-2)).sqrt()",
                "a, b = torch.broadcast_tensors(a, b)\n"
                "    return F.mse_loss(a, b, reduction='none').mean((-1,-2)).sqrt()")),
    bug("rmse", "sqrt before the mean (that is the L1 distance)",
        replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return ((a-b)**2).sqrt().mean((-1,-2))")),
    bug("rmse", "F.mse_loss(a, b).sqrt(): one number for a whole stack",
        replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return F.mse_loss(a, b).sqrt()")),
    bug("rmse", "no square root (the mean squared error)",
        replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return ((a-b)**2).mean((-1,-2))")),
    bug("rmse", "the sum of squares instead of the mean (the L2 norm)",
        replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return ((a-b)**2).sum((-1,-2)).sqrt()")),
    bug("rmse", "mean over the first two axes (0, 1): wrong for a stack",
        replace=("return ((a-b)**2).mean((-1,-2)).sqrt()", "return ((a-b)**2).mean((0,1)).sqrt()")),
]
