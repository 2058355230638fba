# The admin's "Scheduled jobs" placeholder: managed = False, so no table is created.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lazycron", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ScheduledJob",
            fields=[
                ("name", models.CharField(max_length=255, primary_key=True, serialize=False)),
            ],
            options={
                "verbose_name": "scheduled job",
                "verbose_name_plural": "scheduled jobs",
                "managed": False,
            },
        ),
    ]
