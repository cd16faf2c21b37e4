from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "direct_uploads" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(255) NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" VARCHAR(64),
    "content_type" VARCHAR(255),
    "node_id" VARCHAR(255),
    "job_id" VARCHAR(255),
    "workflow_id" VARCHAR(255),
    "parent_id" CHAR(36),
    "metadata" JSON,
    "part_size" BIGINT NOT NULL,
    "part_count" INT NOT NULL,
    "handle" VARCHAR(1024) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "owner_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
) /* An upload whose parts the client sends straight to storage; an asset on completion. */;
CREATE INDEX IF NOT EXISTS "idx_direct_uplo_expires_0e4ecd" ON "direct_uploads" ("expires_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "direct_uploads";"""


MODELS_STATE = (
    "eJztnVtz2zYWgP8Khi+bnfF6bPmWdXd2RrGVVKkjdW057TTp0BAJSYwpkCVAK95s/vsC4J"
    "0iaYiSLJrBQxsZwCHAD7dzcA7Jb9rcMZFN9ruuNXLuEdbOwTcNwzliP5by9oAGXTfJ4QkU"
    "jm1RGLqWTnkxkQzHhHrQoCxnAm2CWJKJiOFZLrUcXgv2bZsnOgYraOFpkuRj6y8fsWtNEZ"
    "0hj2V8+pMlW9hEXxGJ/nTv9YmFbDPTYMvkdYt0nT66Iu32tn/5VpTk1Y11w7H9OU5Ku490"
    "5uC4uO9b5j6X4XlThJEHKTJTt8FbGd5zlBS0mCVQz0dxU80kwUQT6NschvaviY8NzgCEdC"
    "2T7GO00C3z32ELU6V1fTAc6Te9ka5rKyA0HMzxW5hyXt++B9dNuIhUjVdw8XP3+tXR6d8F"
    "CYfQqScyBTXtuxCEFAaign0CW3S2PoNktgz9Yga9YuhZqRx81ujtYI9QbQGuNodfdRvhKZ"
    "2xP0+PK2B/7F4L3qfHgrfDJkgwdwZhTkdkcewJZsNDHIUO6TLmS5ZDrTkqRp2VzKE2Q9H9"
    "6Ecd8FFCQj6Z7M+Bnt2gOcT2Y9jlFehH/Q+9m1H3w6+8ujkhf9mCX3fU4zkdkfqYS311mu"
    "um+CLgt/7oZ8D/BH8MB7385InLjf7QeJugTx0dOwsdmqnRGaVG1DK97hPk6astZymRTa5p"
    "O+7j+msX3yUm94VLF0e1jPat4yFrin9BjwJwn7UDYgMVAA2X7tvwMi8TaZKajEkPLuJtNT"
    "2g2L2zO0Y0WNy7Nxfdy54mCI+hcb+AnqlnUPMcp+PkUuKyy1nzzjyfAjGcCjj8LnibI3WE"
    "EEQL9RSRUa2k8CLbV1C+acm9aM4CxxzZ/3lR9NVlY5WwiuLbjVWYr3rQSD0tFw08TQizho"
    "s/xIpRUhNmN1+7Ui5cr9ovzrh2rUy2XqULx7uf2M6ids3RBepV70IPYVq78kC8XtVsDlNe"
    "t5CsVXskWWOEwXnNOiPJ1esk1n9r1hlJytVJZrBzcipfR1i+/PrKZGmCyRINPFljJSq/GT"
    "Nl19pyxlDpnJxIWCqsVKmpIvJytkpuOZLlnJdTvOV4R4talvMba9rHtJh0JJEjbAUb0DYI"
    "H2wL75S34B//7HSOjs46B0enr0+Oz85OXh+8ZmVFc5ezziq64E3/XX8wysLnCTni8UIvO7"
    "YTiRaO6s0fd6T0VulVOhGphTjc8ZpJeCvrRqKlyzJOJBRiKcQ5m0SWc05MwZaCPUcUcqVv"
    "mfT7m+GgmHRaJn82ahkU/A/YFpHZFRuGu4Iuh5E5/4ygvvrQ/T3P++Jq+CavYvMLvFHn0+"
    "p8WvNds2avZyVVrzel1yNGqW4PW5/0evooRvbIInNSpvwS2cUzc3QoSzQjtAbSl7Nx1ff0"
    "iNGnXD1PuXrSk7TY17M8ajdANfbYvMiR+iTVzERd1YWW0rBmlm16QfxN7qQnlHz7yzWyob"
    "iNH4V19lTG8T0D6baF78kGKF1ZGMHpS9Q9pGiZyLMeGIcHRayC2NZd2BGzMk92iukTDm3e"
    "jXHRp/za2hAjgMwpAs4EuJ7zgDBfpM/BnRgXyLwDC0h4jukbyATjRwABP2IDno8BnUEKOC"
    "x/zvLugol3t6/lWG+tkgLf+6dw+geDQFxd+7PKIR8W0qWciCFaPbrynnLx7Vzf26tw8aU6"
    "dwXoWSllpuS9HsH+uhrTjJBCWm2nJEvYM6nUDaX6pE6dGVVPmyqpZVuBrQSbXQKbFPB3aX"
    "nIoLeu7cDsxlqUX6ktmaKk7ouicmGAWheDoDxYzByCADPqKGEqCgKGbTHzDhCETQIE3OmM"
    "Auqw347HbuUnADEQChpgG6vhzF0GlF11WVvaQh2f8Wc8YhcwkWEzM9QEAWwwRqwQEtcWYn"
    "8jPwHPWTBdDBIK7pgyxBgRHdI7wMQAWSCXgoVFZ1zE8oKmlali6jmNBmpEKuhJBeFsk/CP"
    "EYfTsGOxrT91tMtIvkaz3soaoqKeVNRTGxCrqKdnhK2cx5s+51JxZLuLI+OGpb66Lp0RUw"
    "p1bYVacDQcv8ivXw0/FmoT/c7h8dnx66PT4xh6nFLFepnrDGLTXkmFTiRaaIEfHnRkbBVe"
    "rHQrDDJVFGq74xFlolCT08pVez0r+Ty9/pxvJXkhnVwQdLrcyyrqVMVINsBB9nSM5G7cY7"
    "0HhAvfhxFk7FU5xBAvIusIA64/ZrbMDJlAyIF77huaOB6AYDGzbCZDHPab+GMuOEZeEMnj"
    "IcYWI4MSYEDM/qPGDPhugRts0zVETjAXPgrvmkWAZRLgsM3wPHURAvgWKXxiwhXGfswJsh"
    "8Q2Uu7vtgAAMRwXNZaduVrXtKxzaANGIyuhx97eu9jbzDSr3sj9k9/OGCD82I4uLwRvjTX"
    "8zEyJX1nnzTKajJ44SBOKZXAWv6F3WwQ5STtYKuyogoXygIFPpwX6/nWWmI7Vb0ZLewoWZ"
    "U/Fmihxn90cCCh8LNSpfq+yMu5f8IZsALjlEgLKW/pgPExiqmQPQ1Liax1GNY02uqpyqZY"
    "Ni0zZ5f08t0oke+dcZEK+T54JVe5AvnFGe/wdWrZsS4Vz80bHL4SKpQW91Mc0i3/zrH1Wr"
    "KYyDeCWWHUJ7LXD0uXX30lFbJ8d13DcdcwDXJb22q5uqicps8ZrRVPiGXOPezPl846skpk"
    "LP18OqT2n9vebe9SW415KHUOgn+ZvXo7GPQH785B+OMzvhh++PWKWaqsUPzzM37b7V/xpO"
    "BfVqo7uOhdiaT4Z95ylzr5P5U598/vvqlT/9N8V0496Ba8e7pcOY0FlGq6nqMWzgtmUJVR"
    "EEkoB3l97o5PXZ+uBD4losjXJ488zyk4IB8xNarEuxQJtGFTrjKwer+PqmnH9tXVcPAuKp"
    "7vgiztCbRspknXCIlclmwD/+d4b+eLOm1Q3vP6xw05Vdir1+tZyQ30esOm3AvpZCnv+cTC"
    "wqNWo5tzoqqfm9zP/DigJEyi+gyhLE5CbZbFm+UMscVvzLa9GjMqL6umVJOnlAo8UoFHKv"
    "Co1GcksBc4jaLuKPca8S8Lqc8EqsfPC59r3Ojj5w3yJR2eyATCsFLlR+AnS4EwynIvp98u"
    "y32FQIHcNzrXfcFf6vOvL2wIlO2wmSmUfBNuDUYtezlQBtDyW3Pqg8q/q6eNvKKYmPqUwr"
    "CbNsKJohbWJPRb6ot9bcG0TV095lWgr6dZluvsmY5r8Ncz43bKfEBTmQjKRNi1mrr9E0sV"
    "KKNiuJvVFS2zzdSXcdrc6wW+AvVlHOUqaILNsPdCXAVd5FnGTCv61EGQs1f5kYOkTGP8BT"
    "/Ko7RrvginXOl/QB4JTXxZvT8lolR/OdWfT6oVCIfFW0j3UOox5MOKx5APlx9DDt92uopp"
    "lRJRxtWKxtVOn5X8/n/lEvXX"
)
