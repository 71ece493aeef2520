"""A scripted agent for spooky-author-identification: a word-count naive Bayes model, whose
submission has the right columns in another order (the id second), as a person might write it.
"""

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

train = pd.read_csv("/home/data/train.csv")
test = pd.read_csv("/home/data/test.csv")
model = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    LogisticRegression(C=10, max_iter=1000),
)
model.fit(train["text"], train["author"])
probabilities = pd.DataFrame(model.predict_proba(test["text"]), columns=model.classes_)
probabilities["id"] = test["id"]
probabilities[["EAP", "id", "HPL", "MWS"]].to_csv("/home/submission/submission.csv", index=False)
print("wrote", len(probabilities), "rows")
