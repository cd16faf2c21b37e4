from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "asset_tags" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "tag" VARCHAR(64) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "asset_id" CHAR(36) NOT NULL REFERENCES "assets" ("id") ON DELETE CASCADE,
    "owner_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_asset_tags_asset_i_64d428" UNIQUE ("asset_id", "key")
) /* One tag on one asset; `key`, the case-folded tag, is what queries compare. */;
CREATE INDEX IF NOT EXISTS "ix_asset_tags_owner_key" ON "asset_tags" ("owner_id", "key", "asset_id");
        ALTER TABLE "assets" ADD "expires_at" TIMESTAMP;
        ALTER TABLE "assets" ADD "media" JSON;
        ALTER TABLE "assets" ADD "tags" JSON;
        ALTER TABLE "jobs" ADD "keep_for_seconds" BIGINT;
        ALTER TABLE "jobs" ADD "auto_save" VARCHAR(16) NOT NULL DEFAULT 'ALL' /* ALL: ALL\nOUTPUTS: OUTPUTS\nNONE: NONE */;
        CREATE INDEX IF NOT EXISTS "ix_assets_expires_at" ON "assets" ("expires_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "ix_assets_expires_at";
        ALTER TABLE "assets" DROP COLUMN "expires_at";
        ALTER TABLE "assets" DROP COLUMN "media";
        ALTER TABLE "assets" DROP COLUMN "tags";
        ALTER TABLE "jobs" DROP COLUMN "keep_for_seconds";
        ALTER TABLE "jobs" DROP COLUMN "auto_save";
        DROP TABLE IF EXISTS "asset_tags";"""


MODELS_STATE = (
    "eJztXW1z2zYS/isYfrncjJux5Zekzs3NKLaSOnWknC2nncYdGiIhiTUFsgRoxZfLfz8AfK"
    "dIGqQsi2bwIbEE7ALgAxB4FruAvmkLx0Q2edl3rbFzi7B2DL5pGC4Q+7CStwM06LpJDk+g"
    "cGILYehaOuViIhlOCPWgQVnOFNoEsSQTEcOzXGo5vBbs2zZPdAwmaOFZkuRj628fsbJmiM"
    "6RxzK+/MmSLWyir4hEX91bfWoh28w02DJ53SJdp/euSLu6Ojt9JyR5dRPdcGx/gRNp957O"
    "HRyL+75lvuQ6PG+GMPIgRWbqMXgrw2eOkoIWswTq+ShuqpkkmGgKfZuDof1r6mODYwBCdC"
    "2TvMRoqVvmv8MWpqR1fTga65eDsa5rNSA0HMzhtzDleH37HpSb4CJSNV7ByS/9ixf7R/8U"
    "SDiEzjyRKVDTvgtFSGGgKrBPwBadrc8hma+CfjKHXjHoWa0c+KzRm4E9gmoD4GoL+FW3EZ"
    "7ROft6dFAB9uf+hcD76EDg7bAXJHh3hmFOT2Rx2BOYDQ9xKHRIV2E+ZTnUWqBiqLOaOajN"
    "UPVl9KEJ8FFCgnzysj8F9OwBzRG278Mur4B+fPZxcDnuf/zEq1sQ8rct8OuPBzynJ1Lvc6"
    "kvjnLdFBcCfjsb/wL4V/DHaDjIvzyx3PgPjbcJ+tTRsbPUoZkanVFqhFqm132CPL3edJZS"
    "ecw5bct93Hzu4qvE9LZw6uJQrUL7zvGQNcO/onsB8BlrB8QGKgA0nLqvwmKeJ6RJajImPb"
    "iMl9X0gGLPzp4Y0WBy71+e9E8HmkB4Ao3bJfRMPQM1z3F6Ti4lll3NWvQW+RSI4UyAw5+C"
    "tzmiI4QgWshTREY1SeEimyco37TkWTRniWMc2f9cFH112VglrKL4cWMK81UPGqmn9aKBpw"
    "ll1nDxRcwYJTVh9vCNK+XKzar9y5k0rpXpNqt06Xi3U9tZNq45KqBZ9S70EKaNKw/Um1XN"
    "3mHK6xaajWqPNBuMMLhoWGekWb9OYv23YZ2RplydZA57h0fydYTy0uWzQi1WKqdm0nWkdM"
    "rrUaZRG0yjaIDLGkWR/OOYQ9tm5RmDqHd4KGERMalSk0jk5Wyi3LQni3NeT+Eth3c0eWZx"
    "fmvNzjAtRjrSyCFsBQvdJhDe3RS8M96Cn37u9fb3X/V2949eHx68enX4evc1kxXNXc16Vd"
    "EFb8/enw3HWfB5Qg7xeEGRHduJRgdH9eNvq6T4sfQsnag0gjhc8dqJ8EbmjcQakMU40VAQ"
    "S0Gcs31kcc6pKbClwF4gCjnpW0X6w+VoWIx0Wie/B2sZFPwP2BaRWRVbBncFuhyMzD5rBO"
    "qLj/3f83ifnI/e5ik2L+BtDnsKZ6QO7pG8wrw55gtkWjUHe6igUG+OetbQr+PxyWo+gsfn"
    "+fREmxw8ESaVHh7l1ytfyTvs13PNhr2e1VS93pZeL3jZw9YnvZ7ewpbdgs14GJQ/N7tEZl"
    "wusohmlNaA9Pksis095GL0rYKrXORZF3n6JS32ka+O2kdANfZ0P8uR+iCqmRe1buhBimHN"
    "Ldv0grjF3M51qPnu1wtkQ/EYPwrW2V1mx/cMpNsWvi2wrWujdG5hBGfPkXtIoWUiz7pjON"
    "wpxCQRo3Cme87yMZAaw1mXUNp4gFQ0ssripFIj74FwKT7YY9GHoqa0EUYAmTMEnClwPecO"
    "Yb6UHYMb8fYg8wYsIeE5pm8gE0zuAQTcsQI8HwM6hxRwsPwFy7sJpqebl1oO641VUhDZ9S"
    "WcJINBIErX/qwK9wqFdKkQlRBaPSp5RwV2bJ0V74DywI5U59YAPauljLm8rztgIfUwzSgp"
    "SKutuWQKeyLDo6WoPmh5ZEbVwwZdatpWwFYCm50CWxdOztllGVMKmedDLCnyN8pRJCYN2H"
    "rosI9C/Q24uUX3NzuMnSBgQIJ+mjq2yfgJE9wBFgFLzlpYl3sWIoy9LLiNXEyMHq/oQjoE"
    "o5HKCq1mQunNES68E0ElH70rUA0jeMMiFD/a+tJdcSYweFekDwMG4ipgTSJgLRz+stCG4h"
    "2EdiORPfHEVGOuSOsoBpoDVLm8lIOmBbyznoMm5jaKzVeimp752sTlTy0PGfTKtR2YJYFF"
    "+ZWc3hSSui9EJXl9H4NAnjFqhyDAeDQlAeu2LYQpIAibBAhoZ3MKqMM+s/Vpht4AiAOyzp"
    "k7p+AMUFbqKsHfQB3X+BqPWQEmMmzG/E0QgA0miAkhUbZQ+wd5A/hmPquTUHCTxJrdAKYG"
    "yBK5FCwtOucqlhc0rcyOyNkNir23gb2rY2vqGNUmEf4xTlK1LBBg4/fTbPMsZqux3sgcos"
    "6tqXNrXYBYnVt7QrBVuOxjb2+pk4DbOx/FDUu9PpfOqClC3ZhQCxwNxy+KZK4GP1bqEvq9"
    "vYNXB6/3jw5i0OOUKqxXcZ1DbNq1KHSi0UELfG+3J2OrcLHSpTDIVPdpdvsElsy5uxadqZ"
    "Xo9ae8v/aZdHLBMbvVXlZOR+V0bIF77GGn43bcY4M7hAtvTg0ydqocYoiLyDrCgOtPmC0z"
    "RyYQeuCW+4amjgcgWM4tm+kQh30m/oQrTpAXROV7iGGLkUEJMCBm/6gxB75b4AZ77BoiJ5"
    "gL74V3zSLAMglw2GJ4nCqEAL5ECp+YcIWxDwuC7DtEdtKuLzYAADEcl7WWlXzBJXnInWgD"
    "BuOL0eeBPvg8GI71i8GY/TkbDdngPBkNTy+FL831fIxMSd/ZF42ymgwuHATWpRJYy/9iDx"
    "vE6Uk72KqsqMKJsoDAh+/Fer61jthOVXfohx0lHTEXKXSQ8e/v7koQfiZVyvdFXs79E74B"
    "NTBOqXQQ5Q1tMN5HMRWyu2EplbU2w9qG9lPvhj0ve/ZJp/humbMrvHw7JPKDMymikB+Cy9"
    "vLCeRfzmSLF+9nx7rUAQTe4PDoQagtnqf4+IH87fTrtWQ5lW8Es8KoT2TLD6XLS69FIctX"
    "1zUcdy1jkJtaVsvponKaPmW0VvxCrOI8wP5iZa8jSyJj7afjkNp/rgZXg1OtHuah1jEI/j"
    "J79Wo4PBu+Pwbhh2t8Mvr46ZxZqkwo/niN3/XPznlS8JdJ9Ycng3ORFH/MW+5SO/9HMvv+"
    "+dU3tet/lO/KmQfdgl8pKyensYKipus5auGi1qWtiYZykDfH3fGp69NawKdUFPJrXN3qeU"
    "7BBvmY0agS71Kk0IVFucrAGvw+rkY7tq/OR8P3kXi+C7JoT6FlMybdICRyVbML+D/FOUlu"
    "lRJ4VxKn8DAvyhTwhNSof35elxcxlWPA/rvGo6vxp6vx5TEIP1zjIbPrj8EwtO63z3BuEX"
    "L1qePphDs4zKIbtyo29Yu0G8XotO2F2EqA1PPakVMRJs235HLmotes17Oa6tb2NkeYTC0s"
    "vM4Nujmnqvq5zf3Mt8xKQomq99nKYokUoSwmlHPEJr8JW/YavFF5XfVKtfmVUsF5KjhPBe"
    "eV+lUF7AWO1ag7yj2r/HfaN+9aVVc0qCsaWuRv3TuUCRZjUuWbKIcrwWLKci9Hv1uWe41g"
    "mnS05i3C615m71pjXswzHAJlK2x2g1j8WP2aGHXs+qxVgPTiX7P80X8VIXO38soNXM2xyt"
    "/71UW8ovi65iiFIXxdBCeKgFoTod/CYroE0yZtmhivArsmjWW5bZPpuO2EjkqFaMbt1NOq"
    "jxFJqUypTppS26bzm9/ZVUF36jxIu7qiYzas+l3hLvd6gU9F/a6wcqm0wWbYeSYulT7yLG"
    "OuFf2wT5CzU/mzPolMa/wqP8qx/DUv1Son/XfII6GJL8v7UyqK+ktGCbOXqgbCoXgH0d2T"
    "utJgr+JKg73VKw3Cm5PrmFYpFWVc1TSutnru+vv/ARccL5I="
)
