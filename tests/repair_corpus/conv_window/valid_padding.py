# Q: explicit padding='valid' shrinks the map until the last pool has nothing left
# expect: repaired conv-window
# diff: padding="same"
import numpy as np
from tensorflow.keras import layers, models

model = models.Sequential([
    layers.Input((6, 6, 1)),
    layers.Conv2D(4, 3, padding='valid', activation='relu'),
    layers.Conv2D(4, 3, padding='valid', activation='relu'),
    layers.MaxPooling2D(3),
    layers.Flatten(),
    layers.Dense(2, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(np.random.rand(8, 6, 6, 1), np.random.randint(0, 2, 8), epochs=1, verbose=0)
