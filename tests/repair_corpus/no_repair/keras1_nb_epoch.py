# Q: fit() got an unexpected keyword argument 'nb_epoch' -- an API change, not a shape (TFX602's fixture shape)
# expect: no-repair
import numpy as np
from keras.layers import Dense
from keras.models import Sequential

X = np.random.rand(32, 4)
Y = (X.sum(axis=1, keepdims=True) > 2).astype("float32")
model = Sequential()
model.add(Dense(8, activation="relu", input_dim=4))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam")
history = model.fit(X, Y, nb_epoch=3, batch_size=8, verbose=0)
