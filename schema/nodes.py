import strawberry


@strawberry.interface(name="Node")
class Node:
    id: strawberry.ID
