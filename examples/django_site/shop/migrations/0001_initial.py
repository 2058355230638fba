from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("taken_at", models.DateTimeField()),
                ("pid", models.IntegerField()),
            ],
            options={"ordering": ("-taken_at",)},
        ),
    ]
