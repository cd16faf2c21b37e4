from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "jobs" ADD "heartbeat_at" TIMESTAMPTZ;
        ALTER TABLE "jobs" ADD "worker_id" VARCHAR(255);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "jobs" DROP COLUMN "heartbeat_at";
        ALTER TABLE "jobs" DROP COLUMN "worker_id";"""


MODELS_STATE = (
    "eJztnVtv2zYUgP8KoacOyILEuXXBMMBN3NZdaneJ0xa9QKUl2lYjk6pExcmy/veR1F2WFF"
    "qJY9nlwxqZ5CGp7/ByyENqd9qUmMj2ttuONSBXCGvH4E7DcIrYw1zcFtCg4yQxPIDCoS0S"
    "Q8fSKU8mguHQoy40KIsZQdtDLMhEnuFaDrUILwX7ts0DicESWnicBPnY+uEjltcY0QlyWc"
    "TnryzYwia6QV7007nSRxayzUyFLZOXLcJ1euuIsMvL7ulLkZIXN9QNYvtTnKR2bumE4Di5"
    "71vmNpfhcWOEkQspMlOvwWsZvnMUFNSYBVDXR3FVzSTARCPo2xyG9ufIxwZnAEK6lultYz"
    "TTLfOvsIap1Lre6w/0i85A17UFEBoEc/wWppzX3c8g34SLCNV4ASev2+fP9g5/EySIR8eu"
    "iBTUtJ9CEFIYiAr2CWyhbH0Cvck89JMJdIuhZ6Vy8Fmll4M9QrUEuNoU3ug2wmM6YT8P9y"
    "tgv2+fC96H+4I3YR0k6Du9MKYlojj2BLPhIo5Ch3Qe8ymLodYUFaPOSuZQm6HodvRQB3wU"
    "kJBPOvtToGcvaPaxfRuqvAL9oPu2czFov33Hi5t63g9b8GsPOjymJUJvc6HPDnNqijMBH7"
    "qD14D/BJ/6vU6+88TpBp80XifoU6JjMtOhmWqdUWhELaN130OuvthwlhJ5zDFtxTquP3bx"
    "WWJ0VTh0cVTzaF8SF1lj/De6FYC7rB4QG6gAaDh0X4bZrCfSJDRpky6cxdNqukGxd2dvjG"
    "gwuLcvTtqnHU0QHkLjagZdU8+g5jGkRXIhcdr5qGlrmg+BGI4FHP4WvM6ROeJ5iBbaKSKi"
    "2kjhSZZvoNxpybtoZIZjjuxfnhTdOKyteqyg+HVjE+ZGDyqpp+WihqcJYVZx8UOMGCUlYf"
    "bytQvlwvWK/U6GtUtlsvUKnRH3amSTWe2SowzqFe9AF2Fau/BAvF7RrA9TXraQrFV6JFmj"
    "hcFpzTIjycXL9Kx/a5YZScqV6U1g6+BQvowwfXn+asnShCVL1PBkFytR+sdZpqzaWs4sVF"
    "oHBxIrFZaqdKki4nJrldxwJMs5L6d4y/GOBrUs5xfWuItpMelIIkfYCiagZRDeWRbeMa/B"
    "73+0Wnt7R62dvcPnB/tHRwfPd56ztKK681FHFSp40X3V7Q2y8HlAjng80Mu27URiA1v142"
    "93pOxW6VE6EamFOJzxmkl4KeNGYqXLMk4kFGIpxLk1iSznnJiCLQV7iijkRt886TcX/V4x"
    "6bRMfm/UMij4D9iWJzMrNgx3BV0OI7P/GUF99rb9Mc/75Kz/Im9i8wxeqP1ptT+t+Y5ZU+"
    "tZSaX1pmg9YpRSe1j7ROvprRjZLYvMTpnyS2QHz8zWoSzRjNADkK7PxFXf0yNan3L13Ofq"
    "SXfSYl/PfKt9BKqxx2YtW+q9VDMddVEXWsrCmli26Qbnb3I7PaHky7/PkQ3Fa/wqrLO7Ms"
    "R3DaTbFr7yHoHSmYURHK+j7SFFy0Sudc04XCtiFcSW7sKOmJV5slNM73FoczXGSe/za2t9"
    "jAAyxwiQEXBcco0wH6SPwTfRLpD5Dcygx2NM30AmGN4CCPgWG3B9DOgEUsBh+VMW9y3oeN"
    "+2tRzrpRVS4Hv/HHb/oBGI3LWvVQ75MJEu5UQM0epRzlvKxbdye2+rwsWXUu4C0LNSapmS"
    "93oE8+tiTDNCCmn1OiUZwp7IpG4o1Xtt6kyrun+pkhq2FdhKsNkhsEkH/jrXCBce+AsiKu"
    "0jxJPIHfjT2sDxh7blTZjRIeTAFXIoGBGXGScztghjMh5hz54/5IJD5AamiosYXYwM6gED"
    "YvYfNSbAd+atokcv4Qv+ggcTBBx4axNoAssDbOYGBNu3x6lMPMD3JFlWzL4iM48/TD1kXy"
    "NvC8wsOuEBlgvIDAPPIA6rLcv5nKckthnUAYPBef99R++87/QG+nlnwP50+z3WPE/6vdML"
    "wJa6zJzzMTLL7LScSfZZo6wkgycODLFUAKv5d/aygRknbVNVnXsonIUKTj2EPaO5tw2e8N"
    "RD1dWPUFHytz5CgQ08A7G3syPh0WSpSj2aIi5ncYU9YAHGKZENpLwUv3E4bC7iNk6JPMhr"
    "3DTaym1cpYonHeLX039Y5jWeW/Ssxoh8Q4ZFJuSb4M5BuQH5nQxXeF8k29alNqx4hcMz76"
    "F0xZ6V/KWKh9VkNpKvBFuIUd+TzT9MXZ77QiZk+ez6gPNYDbMglzWtlpuL6izcU54JjzvE"
    "POcO9qdz2x1ZIzKWfjobUvvnsnPZOV1wnzmUOgbBX7Zevez1ur1XxyB8+IJP+m/fnbGVKk"
    "sUP37BL9vdMx4U/GWp2r2TzpkIih/zK3cZbe4eSihzNz/7JrrkUVlVjl3oFFyuLzdOYwFl"
    "mj7ANHWgC6cFPahqURBJqJOk9bkTnzo+XQh8SkSRr08euS4pOCU1YGZUMfdYYBMm5aoFVu"
    "fjoJp2vL466/deRcnzKsjSHkHLZpZ0jZsu85KbwP8pLiau1W6DOq5cf7shZwq79bSelXwE"
    "rTesy62JkgvOpM9reWRh4VGroeacqNJzk/XMtwNKbh9U7yGUXT9Qk2XxZDlBbPAbsmmvRo"
    "/Ky6ou1eQupe7zqNsnDTh6dP/tk9X4jAT2AqdRpI5yrxH/dJr6DuqvceJ4tR8VapAvafdA"
    "5iAMS1W+BX4wdxBGrdzL6W/Wyn2BgwK5jxA/9AZT6vvWa9YEpO57JR+9XP7twbUEFJ3xqI"
    "8nPEayiXAiL/wDCX1IfWJzUzAt0/aMeRXYn2mW5TZoRnEN/txtXE+ZL94qk1eZvKs2u5a/"
    "A6cOfqgzyc1SxYatNdSnrDZZ6wV73+pTVmrruwlrhq012fpuI9cyJlrRt0mCmK3Kr5IkaR"
    "qz//2rXA1t7e4f7T/fO9yPb4TGIVUXQe+/9HmNXC9c4sva/SkRZfrLmf68Uy1AOEy+gXR3"
    "pa7V7lZcq92dv1Yb/o8GFllapUTU4mrBxdVK7/79/B+T6+O/"
)
