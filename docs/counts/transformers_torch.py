"""PyTorch's own parameter counts of the transformer built-ins, built from plain torch modules
(torchvision and transformers are not needed): the layers each built-in's file describes, with
nn.MultiheadAttention for the attention (in_proj and out_proj with biases), nn.Linear, nn.LayerNorm,
nn.Embedding and nn.Conv2d. GPT-2's output layer shares wte's weight (tied), so it adds nothing.
Run with the peers' Python: python docs/counts/transformers_torch.py > docs/counts/transformers-torch.txt"""

import torch
from torch import nn


def block(width, mlp):
    return nn.ModuleList(
        [
            nn.LayerNorm(width),
            nn.MultiheadAttention(width, width // 64),
            nn.LayerNorm(width),
            nn.Linear(width, mlp),
            nn.Linear(mlp, width),
        ]
    )


def count(module):
    return sum(parameter.numel() for parameter in module.parameters())


def vit_b_16():
    class_token = nn.Parameter(torch.zeros(1, 1, 768))
    position = nn.Parameter(torch.zeros(1, 197, 768))
    layers = nn.ModuleList(
        [nn.Conv2d(3, 768, 16, 16)]
        + [block(768, 3072) for _ in range(12)]
        + [nn.LayerNorm(768), nn.Linear(768, 1000)]
    )
    return count(layers) + class_token.numel() + position.numel()


def gpt_2(width, depth):
    wte = nn.Embedding(50257, width)
    lm_head = nn.Linear(width, 50257, bias=False)
    lm_head.weight = wte.weight  # tied: one tensor, counted once
    model = nn.ModuleList(
        [wte, nn.Embedding(1024, width)]
        + [block(width, 4 * width) for _ in range(depth)]
        + [nn.LayerNorm(width), lm_head]
    )
    return count(model)


def bert_base():
    model = nn.ModuleList(
        [nn.Embedding(30522, 768), nn.Embedding(512, 768), nn.Embedding(2, 768), nn.LayerNorm(768)]
        + [block(768, 3072) for _ in range(12)]
        + [nn.Linear(768, 768)]
    )
    return count(model)


print(f"torch {torch.__version__}")
print(f"vit-b-16: {vit_b_16()}")
print(f"gpt-2: {gpt_2(768, 12)}")
print(f"gpt-2-medium: {gpt_2(1024, 24)}")
print(f"bert-base: {bert_base()}")
