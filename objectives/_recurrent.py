"""The recurrent layers an rnn trial's parameters ask for (see spaces/_rnn.py)."""

from __future__ import annotations

from typing import Any

import keras

CELLS: dict[str, type[keras.layers.Layer]] = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}


def recurrent_layers(params: dict[str, Any]) -> list[keras.layers.Layer]:
    """`rnn_layers` layers of the chosen cell; each returns its whole sequence to the next,
    the last only its final state, which the head reads."""
    cell = CELLS[params["cell"]]
    count = params["rnn_layers"]
    layers: list[keras.layers.Layer] = []
    for i in range(count):
        layer = cell(
            params[f"rnn_units_{i}"],
            return_sequences=i < count - 1,
            dropout=params["rnn_dropout"],
            recurrent_dropout=params["recurrent_dropout"],
            kernel_initializer=params["initializer"],
            name=f"{params['cell']}_{i}",
        )
        if params["bidirectional"]:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        layers.append(layer)
    return layers
