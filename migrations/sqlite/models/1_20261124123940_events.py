from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "events" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "topic" VARCHAR(300) NOT NULL,
    "subject" VARCHAR(255) NOT NULL,
    "payload" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL
) /* A published event kept for a while, so a subscriber that reconnects can catch up. */;
CREATE INDEX IF NOT EXISTS "idx_events_created_d652bf" ON "events" ("created_at");
CREATE INDEX IF NOT EXISTS "idx_events_topic_03bfab" ON "events" ("topic", "id");
CREATE INDEX IF NOT EXISTS "idx_events_topic_b0629c" ON "events" ("topic", "subject");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "events";"""


MODELS_STATE = (
    "eJztnFtT2zgUgP+Kxk/dGZaBcOsyOzuTQmjTpUkXQtvpZYxiK4mLI7m2TMiy/e8ryXfHMY"
    "ohxEn10OJIOpb8HUk+R0fyvTYmJrK97aZj9cgNwtoxuNcwHCN2MZO3BTToOEkOT6Cwb4vC"
    "0LF0youJZNj3qAsNynIG0PYQSzKRZ7iWQy3Ca8G+bfNEYrCCFh4mST62fviI3WuI6Ai5LO"
    "PLN5ZsYRPdIS/66dzoAwvZZqbBlsnrFuk6nToi7eqqfXomSvLq+rpBbH+Mk9LOlI4Ijov7"
    "vmVucxmeN0QYuZAiM/UYvJXhM0dJQYtZAnV9FDfVTBJMNIC+zWFofw58bHAGIKRrmd42Rh"
    "PdMv8KW5gqreudbk+/bPV0XVsAoUEwx29hynnd/wzum3ARqRqv4ORN8+LF3uFvggTx6NAV"
    "mYKa9lMIQgoDUcE+gS2UrY+gN5qFfjKCbjH0rFQOPmv0crBHqJYAVxvDO91GeEhH7Ofhfg"
    "nsD80LwftwX/AmbIAEY6cT5jREFseeYDZcxFHokM5iPmU51BqjYtRZyRxqMxTdji6qgI8S"
    "EvLJYH8O9OwBzS62p6HKS9D32u9al73mu/e8urHn/bAFv2avxXMaInWaS31xmFNTfBPwsd"
    "17A/hP8LnbaeUHT1yu91njbYI+JTomEx2aqd4ZpUbUMlr3PeTqi01nKZGnnNNWrOPqcxd/"
    "SwxuCqcujmoW7RlxkTXEf6OpANxm7YDYQAVAw6n7KrzNeiJNUpM+6cJJ/FpNdyj27OyJEQ"
    "0m9+blSfO0pQnCfWjcTKBr6hnUPIc0SC4lLjubNW6M8ykQw6GAw5+CtzkyRzwP0UI7RWSU"
    "Gym8yPINlHsteRaNTHDMkf3Pi6I7h/VVj1UUP25swtzpQSP1tFzU8TQhzBoufogZY05NmD"
    "185Uq5cLVqv5N+5VqZbLVKJ8S9GdhkUrnm6AbVqnegizCtXHkgXq1qNoYpr1tIVqo9kqzQ"
    "w+C4Yp2R5OJ1eta/FeuMJOXq9EawcXAoX0dYfv79lctSB5cl6niyzkpU/mnclFVbyxlHpX"
    "FwIOGpsFJzXRWRl/NVctORLOe8nOItxzua1LKcX1nDNqbFpCOJHGEreAEtg/DOsvAOeQt+"
    "/6PR2Ns7auzsHb482D86Oni585KVFc2dzToqUcGr9ut2p5eFzxNyxOOJXrZvJxIb2Kuffr"
    "kjZbdKz9KJSCXE4RuvnoSXMm8kVros40RCIZZCnPNJZDnnxBRsKdhjRCE3+mZJv73sdopJ"
    "p2Xya6OWQcF/wLY8mbdizXCX0OUwMuufEdQX75qf8rxPzruv8iY2v8ErtT6t1qc13zEraj"
    "0rqbReF61HjFJqD1ufaD29FCO7ZJFZKVNxiezkmVk6lCWaEXoE0vV5cVWP9Ijep0I9D4V6"
    "0oO0ONYz22ufgGocsVnLnvog1cxAXTSElrKwRpZtusH+m9xKTyh59vcFsqF4jF+FdXZVhv"
    "iugXTbwjfeE1A6tzCCw3W0PaRomci1bhmHW0WshNjSQ9gRs3mR7BTTBwLaXI1x0Yfi2loX"
    "I4DMIQJkAByX3CLMJ+ljcC36BTKvwQR6PMf0DWSC/hRAwJfYgOtjQEeQAg7LH7O862DgXW"
    "9rOdZLq6Qg9v4lHP5BJxB3176VBeTDQrpUEDFEq0d33lIhvpXbe1slIb6UcheAnpVSbko+"
    "6hG8XxdjmhFSSMv9lGQKeyaTuqZUH7SpM73qYVclNW0rsKVgs1NgnTb8tW4RLtzwF2SU2k"
    "eIF5Hb8Kc1geP3bcsbMaNDyIEb5FAwIC4zTibMCWMyHmHXnt/ngn3kBqaKixhdjAzqAQNi"
    "9o8aI+A7s1bRk9fwFX/FvRECDpzaBJrA8gB7cwOC7elx6iYe4GuS7FbMviITj1+MPWTfIm"
    "8LTCw64gmWC8gEA88gDmstu/MFL0lsM2gDBr2L7oeW3vrQ6vT0i1aP/Wl3O6x7nnQ7p5eA"
    "ubrMnPMxMufZaTmT7ItGWU0GLxwYYqkE1vLv7GEDM07apirb91D4FirY9RCOjPqeNnjGXQ"
    "9lRz9CRcmf+ggFNnAPxN7OjkREk5WaG9EUeTmLKxwBCzBOiWwg5aXEjcNpc5GwcUrkUVHj"
    "utFWYeMyVTzrFL+e8cN5UeMZp2c1RuRb0i8yId8GZw7mG5DfSX+F50WyfV1qwYo3ONzzHk"
    "qXrFnJH6p4XEsmA/lGMEeM+p7s/cPS8+++kAk5/+36iP1YNbMgl/VanW8uqr1wz7knPB4Q"
    "s5xb2B/PLHdkjchY+vlsSO2fq9ZV63TBdeZQ6hgEf5m/etXptDuvj0F48RWfdN+9P2eeKi"
    "sUX37FZ832OU8K/rJSzc5J61wkxZd5z11Gm7uHEsrczb99E13yrKwqhy50Cg7XzzdOYwFl"
    "mj7CNHWgC8cFI6jMKYgk1E7S6tyJTx2fLgQ+JaLIVyePXJcU7JLqMTOqmHsssAkv5TIHq/"
    "WpV0479q/Ou53XUfG8CrK0B9CymSVd4aTLrOQm8H+Og4lrtdqgtitXX27ImcJuNa1nJZ9A"
    "6zUbcmui5II96bNaHlhYRNQqqDknqvRcZz2rwwdqq3wN9kk8vFV+NQvcAnvBCnekjvlL3P"
    "w7T+qjjb/G9sjVfgGlRgvfuwcyUXtWav563cFM1F65GfPpb5absUBUM/fF1Mcet0h9jHfN"
    "uoDU4ZTkC33LP+q0loCigHR1PGHMexPhRCHDRxL6mPoe4KZgWqbtGfMqsD/TLOfboBnF1f"
    "jbnHE7ZT7PqUxeZfKu2uxa/tq6ilKrDZT1UsWG+RrquzubrPWCtW/13R219F0Hn2FrTZa+"
    "m8i1jJFW9CGFIGer9BMKSZnarH//KufYGrv7R/sv9w734+NrcUrZqbWHT6jdItcLXXxZuz"
    "8lokx/OdOfD6oFCIfFN5DurtQZwN2SM4C7s2cAw6+iL+JapUSUc7Wgc7XSg0o//weYNdRs"
)
