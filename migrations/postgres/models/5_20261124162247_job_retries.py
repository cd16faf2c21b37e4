from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "jobs" ADD "attempts" INT NOT NULL DEFAULT 1;
        ALTER TABLE "jobs" ADD "retries" INT NOT NULL DEFAULT 0;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "jobs" DROP COLUMN "attempts";
        ALTER TABLE "jobs" DROP COLUMN "retries";"""


MODELS_STATE = (
    "eJztXWtz2zYW/SsYfdnsjJux5UdSZ2dnFFtJnTpS1pbTTuMODZGQxJoCWQK04s3mvy8Avi"
    "mSBmk9KAYfEkvAvQB4AALn4l5A3zpz20AWedlzzJF9j3DnFHzrYDhH7MNS3h7oQMeJc3gC"
    "hWNLCEPH1CgXE8lwTKgLdcpyJtAiiCUZiOiu6VDT5rVgz7J4oq0zQRNP4yQPm397iJU1RX"
    "SGXJbx5U+WbGIDfUUk/OrcaxMTWUaqwabB6xbpGn10RNrNzcX5OyHJqxtrum15cxxLO490"
    "ZuNI3PNM4yXX4XlThJELKTISj8FbGTxzmOS3mCVQ10NRU404wUAT6FkcjM6/Jh7WOQYgQN"
    "c0yEuMFppp/DtoYUJa0wbDkXbdH2lapwKEuo05/CamHK9v3/1yY1xEaodXcPZL7+rF4ck/"
    "BRI2oVNXZArUOt+FIqTQVxXYx2CLztZmkMyWQT+bQTcf9LRWBnzW6PXAHkK1BnA7c/hVsx"
    "Ce0hn7enJUAvbn3pXA++RI4G2zF8R/dwZBTldkcdhjmHUXcSg0SJdhPmc51JyjfKjTmhmo"
    "jUD1ZfihDvBhQox8/LJvAnr2gMYQW49Bl5dAP7r42L8e9T5+4tXNCfnbEvj1Rn2e0xWpj5"
    "nUFyeZbooKAb9djH4B/Cv4YzjoZ1+eSG70R4e3CXrU1rC90KCRGJ1haohaqtc9glyt2nSW"
    "UFnlnLblPq4/d/FVYnKfO3VxqJahfWe7yJziX9GjAPiCtQNiHeUAGkzdN0ExuwlpnBqPSR"
    "cuomU1OaDYs7MnRtSf3HvXZ73zfkcgPIb6/QK6hpaCmufYXTuTEskuZ82782wKxHAqwOFP"
    "wdsc0hFCEM3lKSKjnKRwkfUTlG+d+Fk69gJHOLL/uSj66rCxSlhF0eNGFOar5jdSS+qFA6"
    "8jlFnDxRcxYxTUhNnD166UK9er9i97XLtWpluv0oXt3k8se1G75rCAetU70EWY1q7cV69X"
    "NXuHKa9baNaqPdSsMcLgvGadoWb1Oon535p1hppydZIZ7B6fyNcRyEuXzwo1WamcmknXkd"
    "AprkeZRk0wjcIBLmsUhfKrMYe2zcpTBlH3+FjCImJShSaRyMvYRJlpTxbnrJ7CWw7vcPJM"
    "4/zWnF5gmo90qJFB2PQXunUgvL8ueKe8BT/93O0eHr7q7h+evD4+evXq+PX+ayYrmruc9a"
    "qkC95evL8YjNLg84QM4tGCIju2Y40WjurVb6sk+LH0LB2r1II4WPGaifBa5o3YGpDFONZQ"
    "EEtBnLF9ZHHOqCmwpcCeIwo56VtG+sP1cJCPdFInuwdr6hT8D1gmkVkVGwZ3CbocjNQ+aw"
    "jqi4+937N4n10O32YpNi/gbQZ7CqekCu6hvMK8PuZzZJgVB3ugoFCvj3ra0K/i8UlrrsDj"
    "szs90SQHT4hJqYdH+fWKV/IW+/Uco2avpzVVrzel13Ne9qD1ca8nt7Blt2BTHgblz00vkS"
    "mXiyyiKaVnQLo7i2J9D7kYfcvgKhd52kWefEnzfeTLo3YFqEae7p0cqU+imnpRq4YeJBjW"
    "zLQM149bzOxcB5rvfr1CFhSP8aNgnd5ltj1XR5pl4vsc27oySpcmRnC6i9xDCi0DueYDw+"
    "FBISaJGIVTzbUXq0BqBKdtQmntAVLhyCqKk0qMvCfCpfhgj0SfiprqDDECyJgiYE+A49oP"
    "CPOl7BTcibcHGXdgAQnPMTwdGWD8CCDgjhXgehjQGaSAg+XNWd6dPz3dvexksF5bJTmRXV"
    "+CSdIfBKL0zp9l4V6BkCYVohJAq4Ul76nAjq2z4j1QHNiR6NwKoKe1lDGX9XX7LKQapikl"
    "BWm5NRdPYRsyPBqK6pOWR2pUPW3QJaZtBWwpsOkpsHHh5JxdFjGlgHk+xZJCf6McRWLSgK"
    "2HNvso1N+Au3v0eLfH2AkCOiTop4ltGYyfMME9YBKw4KyFdblrIsLYy5zbyPnEaHVF59Ih"
    "GI5UVmg5E0pujnDhvRAq+ehdgWoQwRsUofjR1pfukjOB/rsifRjQF1cBaxIBa8Hwl4U2EG"
    "8htGuJ7IkmpgpzRVJHMdAMoMrlpRw0DeCd1Rw0EbdRbL4U1eTM1yQuf266SKc3jmXDNAnM"
    "yy/l9IaQ1DwhKsnrexj48oxR2wQBxqMp8Vm3ZSJMAUHYIEBAO51RQG32ma1PU/QGQOyTdc"
    "7cOQVngLJSlwn+Guq4xbd4xAowkG4x5m8AH2wwRkwIibKF2j/IG8A381mdhIK7ONbsDjA1"
    "QBbIoWBh0hlXMV2/aUV2RMZuUOy9CexdHVtTx6jWifCPcZKqYYEAa7+fZptnMRuN9VrmEH"
    "VuTZ1bawPE6tzaBsFW4bKr3t5SJwG3dz6KG5ZadS6dUlOEujahFjjqtpcXyVwOfqTUJvS7"
    "B0evjl4fnhxFoEcpZVgv4zqD2LAqUehYo4UW+MF+V8ZW4WKFS6Gfqe7TbPcJLJlzdw06Uy"
    "vR65u8v3ZHOjnnmN1yLyuno3I6NsA99rTTcTvusf4Dwrk3p/oZe2UOMcRFZB1hwPHGzJaZ"
    "IQMIPXDPfUMT2wUQLGamxXSIzT4Tb8wVx8j1o/JdxLDFSKcE6BCzf1SfAc/JcYOtuobQCe"
    "bAR+FdMwkwDQJsthieJgohgC+RwicmXGHsw5wg6wGRvaTriw0AQHTbYa1lJV9xSR5yJ9qA"
    "wehq+Lmv9T/3ByPtqj9ify6GAzY4z4aD82vhS3NcDyND0nf2pUNZTToX9gPrEgms5X+xh/"
    "Xj9KQdbGVWVO5EmUPgg/fieb61lthOZXfoBx0lHTEXKrSQ8R/u70sQfiZVyPdFXsb9E7wB"
    "FTBOqLQQ5TVtMD6GMRWyu2EJlWdthjUN7U3vhu2WPbvRKb5d5uwSL98Oifxgj/Mo5Af/8v"
    "ZiAvmXPd7ixfvpsS51AIE3ODh6EGiL58k/fiB/O/3zWrKYyDeCWWHUI7LlB9LFpVeikMWr"
    "6zMcdw1jkOtaVovponKabjJaK3ohlnHuY2++tNeRJpGR9uY4ZOc/N/2b/nmnGuaB1inw/z"
    "J79WYwuBi8PwXBh1t8Nvz46ZJZqkwo+niL3/UuLnmS/5dJ9QZn/UuRFH3MWu5SO/8nMvv+"
    "2dU3set/ku3KqQudnF8pKyankYKips9z1MJ5pUtbYw3lIK+Pu+1Rx6OVgE+oKOSfcXWr69"
    "o5G+QjRqMKvEuhQhsW5TIDq//7qBztyL66HA7eh+LZLkijPYGmxZh0jZDIZc024L+Jc5Lc"
    "KiXwoSBO4WlelCpgg9Sod3lZlRcxlVPA/rvFw5vRp5vR9SkIPtziAbPrT8EgsO63z3DuEX"
    "K0ie1qhDs4jLwbt0o29fO0a8XoNO2F2EqA1G7tyKkIk/pbchlz0a3X62lNdWt7kyNMJiYW"
    "Xuca3ZxRVf3c5H7mW2YFoUTl+2xFsUSKUOYTyhlik9+YLXs13qisrnqlmvxKuYjyG6aWO7"
    "mQliY0WvM7gisLF4eUormTt8tTiGdSZXOAHuwIoCp4VAWPquDRQr+/gD3H8R92R7Hn32MS"
    "63f9qytE1BUiDYoHODiWCWZkUsWbfMdLwYxqZ6kY/XbtLFUI9kpGE98j/NwfW3DMES9mB4"
    "dA0Qqbps38KqtV/CBFqwHS8n9t9Uf/1Y7U3d9LN8TVxyp7L10b8QrjP+ujFISYthGcMELv"
    "mQj9FhTTJpjWadNEeOXYNUksi22bVMdtJ7RZKoQ4aqeWVF1FpK8ypVppSm2bzq/f86CCQt"
    "V5pWZ1RctsWPW7123u9Ryfn/rda+VSaYLNsLcjLpUeck191skxPoKcvdKfnYplGuNX+VGu"
    "jXim07mY9D8glwQmvizvT6go6i8Zxc5eqgoIB+ItRPdA6sqNg5IrNw6Wr9wIbvauYlolVJ"
    "RxVdG42uq9AN//D4FTAeA="
)
